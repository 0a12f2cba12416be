/**
 * @module Who may read a deployment's files: no one but its owner. Data directories
 * are 0700, databases, blobs and voter files 0600 (the database holds password
 * hashes). Processes create files private (umask 077), and a region does not start on
 * a data directory other users can read: it names the command that fixes it.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { ConfigError } from './config.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** The bits that let group or others read, write or enter. */
const SHARED_BITS = 0o077;

/** Every file and folder this process creates from now on is its owner's alone. */
export function createFilesPrivately(): void {
  // A worker thread may not change the process's umask; its main thread has.
  if (isMainThread) process.umask(SHARED_BITS);
}

/**
 * Creates the data directory private if it is missing; refuses one that group or
 * others can read, write or enter, naming the chmod that fixes it.
 */
export function requirePrivateDataDir(dir: string): void {
  let mode: number;
  try {
    const stat = statSync(dir);
    if (!stat.isDirectory()) throw new ConfigError(`the data directory ${dir} is not a directory`);
    mode = stat.mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    chmodSync(dir, PRIVATE_DIR_MODE);
    return;
  }
  if ((mode & SHARED_BITS) === 0) return;
  throw new ConfigError(
    `the data directory ${dir} has mode ${mode.toString(8).padStart(3, '0')}: other users can reach its ` +
      `password hashes and data. Make it yours alone, then start again:\n  chmod -R go-rwx ${shellQuote(dir)}`,
  );
}

function shellQuote(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
