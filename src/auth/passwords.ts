/**
 * @module Password hashing with scrypt (memory-hard, from node:crypto) on a small pool
 * of threads of its own. Node's asynchronous scrypt runs on libuv's four shared threads,
 * where the fdatasync that acknowledges a write also waits: a burst of sign-ins (each
 * 32 MiB and ~100 ms of CPU) made every write wait seconds. Here each hash runs in a
 * worker thread; a bounded queue refuses a hash past its length (503 `overloaded`).
 * The stored form carries its parameters so they can be raised later without breaking
 * old hashes.
 */
import { randomBytes, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BoundedQueue } from '../util/bounded-queue.js';

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** Threads and queue when none are configured (settings.limits.passwordHash*). */
export const DEFAULT_PASSWORD_POOL = { threads: 1, queue: 64 };

function options(n: number, r: number, p: number): ScryptOptions {
  return { N: n, r, p, maxmem: 256 * n * r + 16 * 1024 * 1024 };
}

// The worker's whole program: synchronous scrypt, on its own thread, one job at a time.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    const key = scryptSync(job.password, Buffer.from(job.salt), job.keylen, job.options);
    parentPort.postMessage({ key });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

interface Job {
  password: string;
  salt: Uint8Array;
  keylen: number;
  options: ScryptOptions;
}

/** One worker thread; started on first use, referenced only while it hashes. */
class ScryptThread {
  private worker: Worker | undefined;

  run(job: Job): Promise<Buffer> {
    this.worker ??= this.spawn();
    const worker = this.worker;
    worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.unref();
      };
      const onMessage = (m: { key?: Uint8Array; error?: string }) => {
        settle();
        if (m.key) resolve(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength));
        else reject(new Error(`scrypt failed: ${m.error}`));
      };
      const onError = (err: Error) => {
        settle();
        this.worker = undefined;
        reject(err);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage(job);
    });
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'mraa-scrypt' });
    worker.unref();
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
    });
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

export class Passwords {
  private readonly threads: ScryptThread[];
  private readonly idle: ScryptThread[];
  private readonly queue: BoundedQueue;

  constructor(pool: { threads: number; queue: number } = DEFAULT_PASSWORD_POOL) {
    this.threads = Array.from({ length: pool.threads }, () => new ScryptThread());
    this.idle = [...this.threads];
    this.queue = new BoundedQueue('password checks', pool.threads, pool.queue);
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.scrypt(password, salt, KEY_LENGTH, options(N, R, P));
    return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
    const salt = Buffer.from(parts[4]!, 'base64url');
    const expected = Buffer.from(parts[5]!, 'base64url');
    if (!plausible(n, r, p, salt, expected)) return false;
    const key = await this.scrypt(password, salt, expected.length, options(n, r, p));
    return timingSafeEqual(key, expected);
  }

  /** Ends the threads; a later hash starts them again. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }

  private scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
    // The queue admits at most one job per thread, so an idle thread is always there.
    return this.queue.run(async () => {
      const thread = this.idle.pop()!;
      try {
        return await thread.run({ password, salt: new Uint8Array(salt), keylen, options: opts });
      } finally {
        this.idle.push(thread);
      }
    });
  }
}

/** Parameters a hash of ours could carry: anything else (a corrupt or hostile item) matches nothing. */
function plausible(n: number, r: number, p: number, salt: Buffer, expected: Buffer): boolean {
  const powerOfTwo = Number.isSafeInteger(n) && n >= 2 ** 10 && n <= 2 ** 20 && (n & (n - 1)) === 0;
  const small = (x: number, max: number) => Number.isSafeInteger(x) && x >= 1 && x <= max;
  return (
    powerOfTwo && small(r, 32) && small(p, 16) && salt.length >= 8 && expected.length >= 16 && expected.length <= 64
  );
}

/** A password for a generated account: 20 characters, about 119 bits. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}
