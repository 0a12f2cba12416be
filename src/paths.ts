/**
 * @module Where mraa's own files are, found from this file's location so the `mraa`
 * command works from any folder (a deployment's files live in the current folder).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    dir = resolve(dir, '..');
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export const PACKAGE_ROOT = findPackageRoot();
/** The compiled CLI entry point, for starting region processes. */
export const CLI_ENTRY = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
/** The web app's production build, served by the edge. */
export const WEB_DIST = join(PACKAGE_ROOT, 'web', 'dist');
