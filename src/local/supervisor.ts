/**
 * @module The local supervisor behind `mraa up`: one OS process per region and per
 * witness, each logging to its own file. A process that dies is reported, never
 * restarted: a dead region is a region outage, to be seen as such.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/config.js';
import { CLI_ENTRY } from '../paths.js';

export interface RegionProcess {
  name: string;
  pid: number | undefined;
  running: boolean;
  startedAt: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  logFile: string;
}

export interface SupervisorEvents {
  exit: [RegionProcess];
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly children = new Map<string, { proc: ChildProcess; info: RegionProcess; expected: boolean }>();
  readonly logDir: string;

  constructor(
    private readonly config: LoadedConfig,
    private readonly env: Record<string, string> = {},
  ) {
    super();
    this.logDir = join(config.dataRoot, 'logs');
  }

  start(region: string): RegionProcess {
    const existing = this.children.get(region);
    if (existing?.info.running) return existing.info;
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const logFile = join(this.logDir, `${region}.log`);
    const fd = openSync(logFile, 'a', 0o600);
    const isWitness = this.config.controlPlane.witnesses.some((w) => w.name === region);
    const command = isWitness ? ['witness', '--name', region] : ['region', '--region', region];
    const proc = spawn(process.execPath, [CLI_ENTRY, ...command, '--config', this.config.file], {
      stdio: ['pipe', fd, fd],
      env: { ...process.env, ...this.env, MRAA_SUPERVISED: '1' },
    });
    closeSync(fd);
    const info: RegionProcess = { name: region, pid: proc.pid, running: true, startedAt: Date.now(), logFile };
    const entry = { proc, info, expected: false };
    this.children.set(region, entry);
    proc.stdin?.on('error', () => {});
    proc.once('exit', (code, signal) => {
      info.running = false;
      info.exit = { code, signal, at: Date.now() };
      if (!entry.expected) this.emit('exit', info);
    });
    return info;
  }

  /** Stop a region's process (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(region: string, graceMs = 5000): Promise<void> {
    const entry = this.children.get(region);
    if (!entry?.info.running) return;
    entry.expected = true;
    const exited = new Promise<void>((resolve) => entry.proc.once('exit', () => resolve()));
    entry.proc.kill('SIGTERM');
    const timer = setTimeout(() => entry.proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kill a region's process at once, as an outage would; reported like one unless `expected`. */
  kill(region: string, expected = false): boolean {
    const entry = this.children.get(region);
    if (!entry?.info.running) return false;
    entry.expected = expected;
    return entry.proc.kill('SIGKILL');
  }

  /** Resolves once the region's process has exited (at once if it is not running). */
  whenStopped(region: string): Promise<void> {
    const entry = this.children.get(region);
    if (!entry?.info.running) return Promise.resolve();
    return new Promise((resolve) => entry.proc.once('exit', () => resolve()));
  }

  list(): RegionProcess[] {
    return [...this.config.regions, ...this.config.controlPlane.witnesses].map(
      (r) =>
        this.children.get(r.name)?.info ?? {
          name: r.name,
          pid: undefined,
          running: false,
          startedAt: 0,
          logFile: join(this.logDir, `${r.name}.log`),
        },
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((r) => this.stop(r)));
  }
}
