/**
 * @module Memory of another process, from /proc (Linux): resident set now, and the
 * peak since the last reset (VmHWM, reset by writing 5 to clear_refs).
 */
import { readFile, writeFile } from 'node:fs/promises';

async function field(pid: number, name: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${name} for ${pid}`);
  return Number(m[1]) * 1024;
}

export const rssBytes = (pid: number) => field(pid, 'VmRSS');
export const peakRssBytes = (pid: number) => field(pid, 'VmHWM');

/** Reset the peak to the current resident set. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
