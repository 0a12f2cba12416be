/**
 * @module Prometheus's `promtool` for the tests (`promtool check metrics` on a region's
 * scrape). Debian: `apt-get install prometheus`; CI installs it in .ci/run.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The promtool binary on the PATH (or Debian's /usr/bin/promtool), if installed. */
export function findPromtool(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, 'promtool');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Whether the promtool tests can run here. Outside CI a missing binary skips them (with
 * a message naming the package); in CI (.ci/run installs it) it fails them instead.
 */
export function promtoolAvailable(): boolean {
  if (findPromtool()) return true;
  if (process.env.CI)
    throw new Error('promtool is not installed, and CI must run the metrics lint (apt-get install prometheus)');
  return false;
}

/** `promtool check metrics` on an exposition: its exit status and what it printed. */
export function checkMetrics(exposition: string): { status: number | null; output: string } {
  const res = spawnSync(findPromtool()!, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout ?? ''}${res.stderr ?? ''}`.trim() };
}
