import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walSyncThread } from './wal-sync-thread.js';

describe('the WAL sync thread', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('syncs a file, concurrently, and closes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-walsync-'));
    const file = join(dir, 'db-wal');
    await writeFile(file, 'x');
    const sync = walSyncThread();
    await Promise.all([sync(file), sync(file), sync(file)]);
    await sync.close();
    // A sync after close starts the thread again.
    await sync(file);
    await sync.close();
  });

  it('a sync asked for while the thread closes succeeds, on a thread of its own (a failed sync is fatal)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-walsync-'));
    const file = join(dir, 'db-wal');
    await writeFile(file, 'x');
    const sync = walSyncThread();
    for (let i = 0; i < 20; i++) {
      await sync(file);
      const closing = sync.close();
      await expect(Promise.all([sync(file), sync(file)])).resolves.toEqual([undefined, undefined]);
      await closing;
    }
    await sync.close();
  });

  it('fails a sync of a missing file with its code, and recovers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-walsync-'));
    const sync = walSyncThread();
    await expect(sync(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    const file = join(dir, 'db-wal');
    await writeFile(file, 'x');
    await sync(file);
    await sync.close();
  });

  it('does not wait behind a busy libuv thread pool', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-walsync-'));
    const file = join(dir, 'db-wal');
    await writeFile(file, 'x');
    const sync = walSyncThread();
    await sync(file);
    const { scrypt } = await import('node:crypto');
    // Fill the pool (4 threads by default) with slow work.
    const busy = Array.from(
      { length: 8 },
      () =>
        new Promise<void>((resolve) =>
          scrypt('p', 's', 64, { N: 2 ** 15, r: 8, p: 2, maxmem: 256 * 1024 * 1024 }, () => resolve()),
        ),
    );
    const started = performance.now();
    await sync(file);
    const ms = performance.now() - started;
    let poolDone = false;
    void Promise.all(busy).then(() => {
      poolDone = true;
    });
    expect(poolDone).toBe(false);
    expect(ms).toBeLessThan(200);
    await Promise.all(busy);
    await sync.close();
  });
});
