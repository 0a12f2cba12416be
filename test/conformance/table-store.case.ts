/**
 * @module The table store conformance suite (src/ports/table-store.ts). Every adapter
 * runs it unchanged: call `tableStoreConformance(name, factory)` from a test file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/core/errors.js';
import { formatHlc, HybridLogicalClock, parseHlc } from '../../src/core/hlc.js';
import type { Version } from '../../src/core/version.js';
import type { Stamp, TableDefinition, TableStore } from '../../src/ports/table-store.js';

export interface TableStoreHandle {
  store: TableStore;
  close(): Promise<void>;
}

export type TableStoreFactory = (tables: TableDefinition[]) => Promise<TableStoreHandle>;

const TABLES: TableDefinition[] = [
  { name: 'things', key: 'id' },
  { name: 'comments', key: 'commentId', indexes: { byPhoto: { hash: 'photoId', sort: 'createdAt' } } },
];

export function tableStoreConformance(adapter: string, factory: TableStoreFactory): void {
  describe(`table store conformance: ${adapter}`, () => {
    let handle: TableStoreHandle;
    let store: TableStore;
    const clock = new HybridLogicalClock();
    const stamp: Stamp = () => ({ epoch: 1, hlc: clock.tick(), region: 'test-1' });

    beforeEach(async () => {
      handle = await factory(TABLES);
      store = handle.store;
    });
    afterEach(async () => {
      await handle.close();
    });

    it('puts and gets an item with its version', async () => {
      const written = await store.put('things', { id: 'a', n: 1, nested: { s: 'x' } }, { stamp });
      expect(written.version.epoch).toBe(1);
      expect(written.version.region).toBe('test-1');
      expect(await store.get('things', 'a')).toEqual({ id: 'a', n: 1, nested: { s: 'x' } });
      const v = await store.getVersioned('things', 'a');
      expect(v?.version).toEqual(written.version);
    });

    it('returns undefined for an absent item', async () => {
      expect(await store.get('things', 'nope')).toBeUndefined();
      expect(await store.getVersioned('things', 'nope')).toBeUndefined();
    });

    it('overwrites with a greater version', async () => {
      const first = await store.put('things', { id: 'a', n: 1 }, { stamp });
      const second = await store.put('things', { id: 'a', n: 2 }, { stamp });
      expect(second.version.hlc > first.version.hlc).toBe(true);
      expect(await store.get('things', 'a')).toEqual({ id: 'a', n: 2 });
    });

    it('does not acknowledge a local write or delete that does not beat the current version', async () => {
      const current = await store.put('things', { id: 'lww', n: 1 }, { stamp });
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
        await expectCode(store.put('things', { id: 'lww', n: 2 }, { stamp: stampOf(version) }), 'conflict');
        await expectCode(store.delete('things', 'lww', { stamp: stampOf(version) }), 'conflict');
        expect(await store.getVersioned('things', 'lww')).toEqual({ ...current, item: { id: 'lww', n: 1 } });
      }
      // A greater version (a higher epoch with an older hlc) wins.
      const older = formatHlc({ wall: wall - 5000, logical: 0 });
      await store.put('things', { id: 'lww', n: 3 }, { stamp: stampOf({ epoch: 2, hlc: older, region: 'test-1' }) });
      expect(await store.get('things', 'lww')).toEqual({ id: 'lww', n: 3 });
    });

    it('deletes with a tombstone that scan still sees', async () => {
      await store.put('things', { id: 'a' }, { stamp });
      const tomb = await store.delete('things', 'a', { stamp });
      expect(tomb?.item).toBeNull();
      expect(await store.get('things', 'a')).toBeUndefined();
      expect((await store.getVersioned('things', 'a'))?.item).toBeNull();
      const scanned = await store.scan('things');
      expect(scanned.items.map((i) => [i.key, i.item])).toEqual([['a', null]]);
      expect(await store.delete('things', 'never-was', { stamp })).toBeUndefined();
    });

    it('honours conditional writes on the expected version', async () => {
      const created = await store.put('things', { id: 'c', n: 1 }, { stamp, expected: null });
      await expectCode(store.put('things', { id: 'c', n: 9 }, { stamp, expected: null }), 'conflict');
      const updated = await store.put('things', { id: 'c', n: 2 }, { stamp, expected: created.version });
      await expectCode(store.put('things', { id: 'c', n: 3 }, { stamp, expected: created.version }), 'conflict');
      await expectCode(store.delete('things', 'c', { stamp, expected: created.version }), 'conflict');
      await store.delete('things', 'c', { stamp, expected: updated.version });
      await store.put('things', { id: 'c', n: 4 }, { stamp, expected: null });
      expect(await store.get('things', 'c')).toEqual({ id: 'c', n: 4 });
    });

    it('writes nothing when the stamp refuses the write', async () => {
      const refuse: Stamp = () => {
        throw new Error('not admitted');
      };
      await expect(store.put('things', { id: 'r' }, { stamp: refuse })).rejects.toThrow('not admitted');
      expect(await store.getVersioned('things', 'r')).toBeUndefined();
    });

    it('queries a secondary index in order, both ways, with cursors', async () => {
      for (let i = 0; i < 7; i++) {
        await store.put('comments', { commentId: `c${i}`, photoId: 'p1', createdAt: `2026-01-0${i + 1}` }, { stamp });
      }
      await store.put('comments', { commentId: 'other', photoId: 'p2', createdAt: '2026-01-01' }, { stamp });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<TableStore['query']>> = await store.query('comments', 'byPhoto', 'p1', {
          limit: 3,
          cursor,
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((c) => c.commentId as string));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
      const desc = await store.query('comments', 'byPhoto', 'p1', { limit: 2, order: 'desc' });
      expect(desc.items.map((c) => c.commentId)).toEqual(['c6', 'c5']);
      const next = await store.query('comments', 'byPhoto', 'p1', {
        limit: 10,
        order: 'desc',
        cursor: desc.nextCursor,
      });
      expect(next.items.map((c) => c.commentId)).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);
      expect(next.nextCursor).toBeNull();
    });

    it('keeps indexes in step with updates and deletes', async () => {
      await store.put('comments', { commentId: 'm', photoId: 'p1', createdAt: '1' }, { stamp });
      await store.put('comments', { commentId: 'm', photoId: 'p2', createdAt: '1' }, { stamp });
      expect((await store.query('comments', 'byPhoto', 'p1')).items).toEqual([]);
      expect((await store.query('comments', 'byPhoto', 'p2')).items).toHaveLength(1);
      await store.delete('comments', 'm', { stamp });
      expect((await store.query('comments', 'byPhoto', 'p2')).items).toEqual([]);
    });

    it('refuses a malformed cursor, an unknown index and a bad limit with invalid_request', async () => {
      await expectCode(store.query('comments', 'byPhoto', 'p1', { cursor: 'not-a-cursor' }), 'invalid_request');
      await expectCode(store.query('comments', 'nope', 'p1'), 'invalid_request');
      await expectCode(store.query('comments', 'byPhoto', 'p1', { limit: 0 }), 'invalid_request');
    });

    it('treats keys as data: dots, slashes and unicode are fine; NUL and 5,000 characters are refused', async () => {
      for (const id of ['../../etc/passwd', 'a/b/c', '..', '📷 ünïcode']) {
        await store.put('things', { id }, { stamp });
        expect(await store.get('things', id)).toEqual({ id });
      }
      await expectCode(store.put('things', { id: 'a\0b' }, { stamp }), 'invalid_request');
      await expectCode(store.put('things', { id: 'k'.repeat(5000) }, { stamp }), 'invalid_request');
      await expectCode(store.put('things', { noKey: true }, { stamp }), 'invalid_request');
    });

    it('pages a scan in key order', async () => {
      for (const id of ['b', 'a', 'd', 'c']) await store.put('things', { id }, { stamp });
      const first = await store.scan('things', { limit: 3 });
      expect(first.items.map((i) => i.key)).toEqual(['a', 'b', 'c']);
      const rest = await store.scan('things', { limit: 3, cursor: first.nextCursor });
      expect(rest.items.map((i) => i.key)).toEqual(['d']);
      expect(rest.nextCursor).toBeNull();
    });
  });
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    if (isDomainError(err) && err.code === code) return;
    throw new Error(`expected DomainError ${code}, got ${String(err)}`);
  }
  throw new Error(`expected DomainError ${code}, but it succeeded`);
}
