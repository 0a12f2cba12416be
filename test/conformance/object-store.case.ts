/**
 * @module The object store conformance suite (src/ports/object-store.ts). Every
 * adapter runs it unchanged: call `objectStoreConformance(name, factory)`.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatHlc, HybridLogicalClock, parseHlc } from '../../src/core/hlc.js';
import type { Version } from '../../src/core/version.js';
import type { ObjectStore } from '../../src/ports/object-store.js';
import type { Stamp } from '../../src/ports/table-store.js';
import { expectCode } from './table-store.case.js';

export interface ObjectStoreHandle {
  store: ObjectStore;
  close(): Promise<void>;
  /** Close and open the same store again (to see what survived). */
  reopen(): Promise<ObjectStoreHandle>;
  /**
   * Start a put of an endless body in another OS process, SIGKILL it once some of
   * the body is stored, and return when it is dead. Absent: the test is skipped.
   */
  killDuringPut?(bucket: string, key: string): Promise<void>;
  /** Paths written outside the store's own area since it opened (must stay empty). */
  pathsOutsideStore?(): Promise<string[]>;
}

export type ObjectStoreFactory = () => Promise<ObjectStoreHandle>;

const MiB = 1024 * 1024;

/** A body of `size` pseudo-random bytes generated on the fly, never held whole. */
export function generatedBody(size: number, seed = 1): Readable {
  let sent = 0;
  let state = seed;
  const chunk = Buffer.alloc(64 * 1024);
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(chunk.length, size - sent);
      for (let i = 0; i < n; i += 4) {
        state = (state * 1103515245 + 12345) >>> 0;
        chunk.writeUInt32LE(state, i);
      }
      sent += n;
      this.push(Buffer.from(chunk.subarray(0, n)));
    },
  });
}

async function digestOf(stream: Readable): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export function objectStoreConformance(adapter: string, factory: ObjectStoreFactory): void {
  describe(`object store conformance: ${adapter}`, () => {
    let handle: ObjectStoreHandle;
    let store: ObjectStore;
    const clock = new HybridLogicalClock();
    const stamp: Stamp = () => ({ epoch: 1, hlc: clock.tick(), region: 'test-1' });
    const put = (key: string, body: string, contentType = 'text/plain') =>
      store.put('photos', key, Readable.from([Buffer.from(body)]), { stamp, contentType });

    beforeEach(async () => {
      handle = await factory();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.close();
    });

    it('puts and gets an object with its checksum, ETag, size and type', async () => {
      const v = await put('a.txt', 'hello world');
      expect(v.size).toBe(11);
      expect(v.sha256).toBe(createHash('sha256').update('hello world').digest('hex'));
      expect(v.etag).toBe(`"${createHash('md5').update('hello world').digest('hex')}"`);
      expect(v.contentType).toBe('text/plain');
      const got = await store.get('photos', 'a.txt');
      expect(await text(got.body)).toBe('hello world');
      expect(got.meta.versionId).toBe(v.versionId);
      const head = await store.head('photos', 'a.txt');
      expect(head.etag).toBe(v.etag);
    });

    it('serves byte ranges and refuses unsatisfiable ones', async () => {
      await put('r.txt', '0123456789');
      const got = await store.get('photos', 'r.txt', { range: { start: 2, end: 5 } });
      expect(await text(got.body)).toBe('2345');
      await expectCode(store.get('photos', 'r.txt', { range: { start: 5, end: 10 } }), 'range_not_satisfiable');
    });

    it('keeps every version; the latest wins; a delete adds a marker', async () => {
      const v1 = await put('k', 'one');
      const v2 = await put('k', 'two');
      expect(await text((await store.get('photos', 'k')).body)).toBe('two');
      expect(await text((await store.get('photos', 'k', { versionId: v1.versionId })).body)).toBe('one');
      const marker = await store.delete('photos', 'k', { stamp });
      expect(marker.deleteMarker).toBe(true);
      await expectCode(store.get('photos', 'k'), 'not_found');
      await expectCode(store.head('photos', 'k'), 'not_found');
      const versions = await store.listVersions('photos', { prefix: 'k' });
      expect(versions.items.map((v) => [v.versionId, v.deleteMarker, v.isLatest])).toEqual([
        [marker.versionId, true, true],
        [v2.versionId, false, false],
        [v1.versionId, false, false],
      ]);
    });

    it('does not acknowledge as latest a local PUT or DELETE that does not beat the current version', async () => {
      const current = await put('lww', 'current body');
      const wall = parseHlc(current.version.hlc).wall;
      const stampOf =
        (v: Version): Stamp =>
        () =>
          v;
      // As after a restart with the wall clock 5 s behind; then a lower epoch; then a tie.
      const losers: Version[] = [
        { epoch: 1, hlc: formatHlc({ wall: wall - 5000, logical: 0 }), region: 'test-1' },
        { epoch: 0, hlc: formatHlc({ wall: wall + 60_000, logical: 0 }), region: 'test-1' },
        current.version,
      ];
      for (const version of losers) {
        const stamp = stampOf(version);
        await expectCode(
          store.put('photos', 'lww', Readable.from([Buffer.from('older body')]), { stamp, contentType: 'text/plain' }),
          'conflict',
        );
        await expectCode(store.delete('photos', 'lww', { stamp }), 'conflict');
        const served = await store.get('photos', 'lww');
        expect(served.meta.versionId).toBe(current.versionId);
        expect(await text(served.body)).toBe('current body');
      }
      const versions = await store.listVersions('photos', { prefix: 'lww' });
      expect(versions.items.map((v) => [v.versionId, v.isLatest])).toEqual([[current.versionId, true]]);
      // A greater version (a higher epoch with an older hlc) wins, and is served.
      const winner = await store.put('photos', 'lww', Readable.from([Buffer.from('newer epoch')]), {
        stamp: stampOf({ epoch: 2, hlc: formatHlc({ wall: wall - 5000, logical: 0 }), region: 'test-1' }),
      });
      expect(winner.isLatest).toBe(true);
      expect(await text((await store.get('photos', 'lww')).body)).toBe('newer epoch');
      const marker = await store.delete('photos', 'lww', {
        stamp: stampOf({ epoch: 2, hlc: formatHlc({ wall: wall - 4000, logical: 0 }), region: 'test-1' }),
      });
      expect(marker.isLatest).toBe(true);
      await expectCode(store.get('photos', 'lww'), 'not_found');
    });

    it('lists latest versions by prefix with a cursor, skipping deleted keys', async () => {
      for (const k of ['p/3', 'p/1', 'q/1', 'p/2', 'p/4']) await put(k, k);
      await store.delete('photos', 'p/4', { stamp });
      const first = await store.list('photos', { prefix: 'p/', limit: 2 });
      expect(first.items.map((o) => o.key)).toEqual(['p/1', 'p/2']);
      const rest = await store.list('photos', { prefix: 'p/', limit: 2, cursor: first.nextCursor });
      expect(rest.items.map((o) => o.key)).toEqual(['p/3']);
      expect(rest.nextCursor).toBeNull();
      await expectCode(store.list('photos', { cursor: '%%%' }), 'invalid_request');
    });

    it('reports an absent object or version as not_found', async () => {
      await expectCode(store.get('photos', 'missing'), 'not_found');
      await put('x', 'x');
      await expectCode(store.get('photos', 'x', { versionId: 'no-such-version' }), 'not_found');
    });

    it('refuses a body over maxBytes with too_large and keeps nothing', async () => {
      await expectCode(store.put('photos', 'big', generatedBody(3 * MiB), { stamp, maxBytes: 1 * MiB }), 'too_large');
      await expectCode(store.head('photos', 'big'), 'not_found');
      expect((await store.listVersions('photos', { prefix: 'big' })).items).toEqual([]);
    });

    it('lets inspect refuse a body by its first bytes', async () => {
      const refuse = (head: Buffer) => {
        if (head.toString('latin1', 0, 4) !== 'GOOD') throw new Error('refused by inspect');
      };
      await expect(
        store.put('photos', 'i', Readable.from([Buffer.from('EVIL body')]), { stamp, inspect: refuse }),
      ).rejects.toThrow('refused by inspect');
      await expectCode(store.head('photos', 'i'), 'not_found');
      const ok = await store.put('photos', 'i', Readable.from([Buffer.from('GOOD body')]), { stamp, inspect: refuse });
      expect(ok.size).toBe(9);
    });

    it('writes nothing when the stamp refuses the write', async () => {
      const refuse: Stamp = () => {
        throw new Error('not admitted');
      };
      await expect(store.put('photos', 'n', Readable.from([Buffer.from('x')]), { stamp: refuse })).rejects.toThrow(
        'not admitted',
      );
      await expectCode(store.head('photos', 'n'), 'not_found');
    });

    it('treats keys as data: `..`, `/`, NUL and 5,000 characters never touch a path outside the store', async () => {
      for (const key of ['../../../../etc/evil', '/etc/passwd', '..', 'a/../../b', '..\\..\\win']) {
        await put(key, `body of ${key}`);
        expect(await text((await store.get('photos', key)).body)).toBe(`body of ${key}`);
      }
      await expectCode(put('nul\0key', 'x'), 'invalid_request');
      await expectCode(put('k'.repeat(5000), 'x'), 'invalid_request');
      await expectCode(store.put('../escape', 'k', Readable.from([Buffer.from('x')]), { stamp }), 'invalid_request');
      if (handle.pathsOutsideStore) expect(await handle.pathsOutsideStore()).toEqual([]);
    });

    it('streams a 200 MiB object in and out without holding it in memory', { timeout: 180_000 }, async () => {
      const size = 200 * MiB;
      globalThis.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      try {
        const expected = await digestOf(generatedBody(size, 7));
        const v = await store.put('photos', 'big.bin', generatedBody(size, 7), { stamp });
        expect(v.size).toBe(size);
        expect(v.sha256).toBe(expected.sha256);
        const out = await digestOf((await store.get('photos', 'big.bin')).body);
        expect(out).toEqual(expected);
      } finally {
        clearInterval(sampler);
      }
      const growthMiB = (peak - baseline) / MiB;
      console.log(`200 MiB object through ${adapter}: RSS grew ${growthMiB.toFixed(1)} MiB`);
      expect(growthMiB).toBeLessThan(64);
    });

    it('shows no partial object after the writing process is SIGKILLed mid-put', { timeout: 60_000 }, async (ctx) => {
      if (!handle.killDuringPut) return ctx.skip();
      await handle.killDuringPut('photos', 'half.bin');
      handle = await handle.reopen();
      store = handle.store;
      await expectCode(store.head('photos', 'half.bin'), 'not_found');
      expect((await store.listVersions('photos', { prefix: 'half' })).items).toEqual([]);
      const v = await put('after-crash', 'still works');
      expect(v.size).toBe(11);
    });
  });
}
