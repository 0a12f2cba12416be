import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './bounded-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('bounded queue', () => {
  it('runs at most `concurrency` jobs at once, in order, and refuses past the waiting bound', async () => {
    const q = new BoundedQueue('jobs', 2, 3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const gates: Array<() => void> = [];
    const job = (i: number) => () =>
      new Promise<number>((resolve) => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        gates.push(() => {
          running--;
          resolve(i);
        });
      });
    const accepted = [0, 1, 2, 3, 4].map((i) => q.run(job(i)));
    expect(q.full).toBe(true);
    await expect(q.run(job(5))).rejects.toMatchObject({ code: 'overloaded', details: { retryAfter: 1 } });
    // Finish the running jobs one at a time: each frees a slot for the next in line.
    while (started.length < 5 || gates.length > 0) {
      expect(running).toBeLessThanOrEqual(2);
      gates.shift()?.();
      await tick();
    }
    expect(await Promise.all(accepted)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(q.stats).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a job that failed', async () => {
    const q = new BoundedQueue('jobs', 1, 0);
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run(async () => 7)).toBe(7);
    expect(q.stats.running).toBe(0);
  });
});
