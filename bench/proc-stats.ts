/**
 * @module Another process's CPU time and memory, from /proc (Linux): CPU seconds used
 * over a phase (to say where the time went), resident set now and its peak since the
 * last reset (VmHWM; writing 5 to clear_refs resets it to the current resident set).
 */
import { readFileSync, writeFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function statusField(pid: number, name: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${name} for process ${pid}`);
  return Number(m[1]) * 1024;
}

export const rssBytes = (pid: number) => statusField(pid, 'VmRSS');
export const peakRssBytes = (pid: number) => statusField(pid, 'VmHWM');

export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** The whole machine's CPU time so far (all cores): busy (not idle or waiting for I/O), and stolen by the hypervisor. */
function machineSeconds(): { busy: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND };
}

/**
 * CPU use over a phase, in cores (1.0 = one core busy all the time): of each named
 * process, of the whole machine, and of everything else on it (other users of this
 * shared machine: noise the figures of the phase were measured under).
 */
export class CpuMeter {
  private readonly start: Map<string, number>;
  private readonly machine0 = machineSeconds();
  private readonly t0 = process.hrtime.bigint();

  constructor(private readonly pids: Record<string, number>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  }

  stop(): Record<string, number> {
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const cores = (seconds: number) => Math.round((seconds / wall) * 100) / 100;
    const ours = Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => [name, cores(cpuSeconds(pid) - this.start.get(name)!)]),
    );
    const m = machineSeconds();
    const machine = cores(m.busy - this.machine0.busy);
    const sum = Object.values(ours).reduce((a, b) => a + b, 0);
    return {
      ...ours,
      machine,
      others: Math.max(0, Math.round((machine - sum) * 100) / 100),
      steal: cores(m.steal - this.machine0.steal),
    };
  }
}
