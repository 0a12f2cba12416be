/**
 * @module Calls from the orchestrator (bench/main.ts) into its helper processes (the
 * load generator, the visibility observer): a forked child serves named handlers over
 * the IPC channel, with structured-clone serialization so bigints and Maps pass.
 */
import { type ChildProcess, fork } from 'node:child_process';

// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own argument type
type Handler = (args: any) => unknown;
type Reply = { id: number; result?: unknown; error?: string };

/** In the child: answer the parent's calls with `handlers`. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('this module runs as a forked helper of bench/main.js');
  process.on('message', async (msg: { id: number; name: string; args: unknown }) => {
    let reply: Reply;
    try {
      const handler = handlers[msg.name];
      if (!handler) throw new Error(`no handler "${msg.name}"`);
      reply = { id: msg.id, result: await handler(msg.args) };
    } catch (err) {
      reply = { id: msg.id, error: (err as Error).stack ?? String(err) };
    }
    process.send!(reply);
  });
  process.on('disconnect', () => process.exit(0));
}

export interface Helper {
  pid: number;
  call<T>(name: string, args?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** In the parent: fork `modulePath` and call its handlers. */
export function startHelper(modulePath: string, execArgv: string[] = []): Helper {
  const child: ChildProcess = fork(modulePath, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  child.on('message', (msg: Reply) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(`in ${modulePath}: ${msg.error}`));
    else p.resolve(msg.result);
  });
  child.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${modulePath} exited (${signal ?? code})`));
    pending.clear();
  });
  return {
    pid: child.pid!,
    call<T>(name: string, args?: unknown): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, name, args });
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
