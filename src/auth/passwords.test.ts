import { scrypt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { Passwords } from './passwords.js';

/** How long a libuv thread-pool job (a stat, like the fdatasync of an acknowledgement) waits while `load` runs. */
async function fsLatencyDuring(load: () => Promise<unknown>): Promise<number> {
  const running = load();
  await new Promise((r) => setTimeout(r, 20));
  const start = performance.now();
  await stat(new URL(import.meta.url).pathname);
  const ms = performance.now() - start;
  await running;
  return ms;
}

describe('password hashing', { timeout: 60_000 }, () => {
  const passwords = new Passwords({ threads: 2, queue: 16 });
  afterAll(() => passwords.close());

  it('verifies what it hashed, and nothing else', async () => {
    const hash = await passwords.hash('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await passwords.verify('correct horse battery', hash)).toBe(true);
    expect(await passwords.verify('correct horse battery!', hash)).toBe(false);
  });

  it('matches nothing against a malformed or implausible stored hash (no 5xx, no huge allocation)', async () => {
    const good = await passwords.hash('x'.repeat(10));
    const [, , r, p, salt, key] = good.split('$');
    for (const stored of [
      '',
      'plain',
      `scrypt$1099511627776$${r}$${p}$${salt}$${key}`,
      `scrypt$1000$${r}$${p}$${salt}$${key}`,
      `scrypt$32768$4096$${p}$${salt}$${key}`,
      `scrypt$32768$${r}$${p}$$${key}`,
      `scrypt$32768$${r}$${p}$${salt}$`,
    ]) {
      expect(await passwords.verify('x'.repeat(10), stored)).toBe(false);
    }
  });

  it("hashes on threads of its own: libuv's pool (where fdatasync waits) stays free", async () => {
    const hashes = () => Promise.all(Array.from({ length: 8 }, (_, i) => passwords.hash(`password-${i}`)));
    const onPool = await fsLatencyDuring(hashes);
    const libuvScrypt = () =>
      Promise.all(
        Array.from(
          { length: 8 },
          (_, i) =>
            new Promise((resolve, reject) =>
              scrypt(`password-${i}`, 'salt', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, k) =>
                err ? reject(err) : resolve(k),
              ),
            ),
        ),
      );
    const onLibuv = await fsLatencyDuring(libuvScrypt);
    console.log(
      `a stat during 8 password hashes: ${onPool.toFixed(1)} ms on the hashing threads, ${onLibuv.toFixed(1)} ms with scrypt on libuv's pool`,
    );
    expect(onPool).toBeLessThan(100);
    expect(onPool * 3).toBeLessThan(onLibuv);
  });

  it('refuses a hash past its queue with 503 overloaded', async () => {
    const small = new Passwords({ threads: 1, queue: 1 });
    try {
      const results = await Promise.allSettled([
        small.hash('aaaaaaaa'),
        small.hash('bbbbbbbb'),
        small.hash('cccccccc'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'overloaded' });
    } finally {
      await small.close();
    }
  });
});
