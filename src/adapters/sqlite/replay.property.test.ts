/**
 * Property: replaying any prefix of a change log, split into any batches, with entries
 * duplicated and reordered, across restarts of the store, converges to the same tables
 * (items, versions, tombstones and index entries) as the last-writer-wins model: for
 * each key, the change with the greatest version. Drives the embedded table store's
 * `applyRemote`, as the applier does, in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ItemChange } from '../../core/change.js';
import { formatHlc } from '../../core/hlc.js';
import { compareVersions, type Version } from '../../core/version.js';
import type { TableDefinition } from '../../ports/table-store.js';
import { type EmbeddedStorage, openEmbeddedStorage } from '../embedded.js';

const TABLES: TableDefinition[] = [
  { name: 'comments', key: 'commentId', indexes: { byPhoto: { hash: 'photoId', sort: 'createdAt' } } },
  { name: 'users', key: 'username' },
];
const KEYS = ['a', 'b', 'c', 'd'];
const PHOTOS = ['p1', 'p2'];

const versionArb: fc.Arbitrary<Version> = fc.record({
  epoch: fc.integer({ min: 1, max: 3 }),
  hlc: fc
    .record({
      wall: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_009 }),
      logical: fc.integer({ min: 0, max: 2 }),
    })
    .map(formatHlc),
  region: fc.constantFrom('ap-northeast-1', 'us-east-1'),
});

const changeArb: fc.Arbitrary<ItemChange> = fc
  .record({
    table: fc.constantFrom('comments', 'users'),
    key: fc.constantFrom(...KEYS),
    version: versionArb,
    tombstone: fc.boolean(),
    photoId: fc.constantFrom(...PHOTOS),
    text: fc.string({ maxLength: 8 }),
  })
  .map(({ table, key, version, tombstone, photoId, text }) => ({
    kind: 'item' as const,
    table,
    key,
    version,
    item: tombstone
      ? null
      : table === 'comments'
        ? { commentId: key, photoId, createdAt: version.hlc, message: text }
        : { username: key, role: 'user', note: text },
  }));

/** A log: changes whose versions are unique (one version is one write, as the HLC makes it). */
const logArb = fc.uniqueArray(changeArb, {
  minLength: 1,
  maxLength: 25,
  selector: (c) => `${c.version.epoch}/${c.version.hlc}/${c.version.region}`,
});

interface Schedule {
  log: ItemChange[];
  prefix: number;
  batches: Array<{ entries: number[]; restartAfter: boolean }>;
}

const scheduleArb: fc.Arbitrary<Schedule> = logArb.chain((log) =>
  fc.integer({ min: 1, max: log.length }).chain((prefix) => {
    const index = fc.integer({ min: 0, max: prefix - 1 });
    const all = Array.from({ length: prefix }, (_, i) => i);
    return fc.record({
      log: fc.constant(log),
      prefix: fc.constant(prefix),
      batches: fc
        .tuple(
          fc.array(fc.record({ entries: fc.array(index, { maxLength: 8 }), restartAfter: fc.boolean() }), {
            maxLength: 5,
          }),
          // Every entry of the prefix arrives at least once, in some order, in the end.
          fc.shuffledSubarray(all, { minLength: prefix }),
          fc.boolean(),
        )
        .map(([early, last, restartAfter]) => [...early, { entries: last, restartAfter }]),
    });
  }),
);

/** What the tables hold when every change of `log` has been applied: the greatest version per key. */
function model(log: ItemChange[]): Map<string, ItemChange> {
  const winners = new Map<string, ItemChange>();
  for (const c of log) {
    const id = `${c.table}/${c.key}`;
    const held = winners.get(id);
    if (!held || compareVersions(c.version, held.version) > 0) winners.set(id, c);
  }
  return winners;
}

async function snapshot(storage: EmbeddedStorage) {
  const rows = new Map<string, { item: unknown; version: Version }>();
  for (const t of TABLES) {
    const page = await storage.tables.scan(t.name, { limit: 1000 });
    for (const s of page.items) rows.set(`${t.name}/${s.key}`, { item: s.item, version: s.version });
  }
  const index: Record<string, string[]> = {};
  for (const p of PHOTOS) {
    const page = await storage.tables.query<{ commentId: string }>('comments', 'byPhoto', p, { limit: 1000 });
    index[p] = page.items.map((i) => i.commentId).sort();
  }
  return { rows, index };
}

describe('replaying a change log', { timeout: 300_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'mraa-replay-'));
  let run = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('converges to the same tables for any prefix, batching, duplication, order and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async ({ log, prefix, batches }) => {
        const dir = join(root, String(run++));
        let storage = await openEmbeddedStorage(dir, TABLES);
        try {
          for (const batch of batches) {
            // A batch is applied in one transaction and made durable, as the applier does.
            storage.tx.run(() => {
              for (const i of batch.entries) storage.tables.applyRemote(log[i]!);
            });
            await storage.tx.durable();
            if (batch.restartAfter) {
              await storage.close();
              storage = await openEmbeddedStorage(dir, TABLES);
            }
          }
          const expected = model(log.slice(0, prefix));
          const { rows, index } = await snapshot(storage);
          expect(new Set(rows.keys())).toEqual(new Set(expected.keys()));
          for (const [id, change] of expected) {
            expect(rows.get(id), id).toEqual({ item: change.item, version: change.version });
          }
          for (const p of PHOTOS) {
            const live = [...expected.values()]
              .filter((c) => c.table === 'comments' && c.item !== null && c.item.photoId === p)
              .map((c) => c.key)
              .sort();
            expect(index[p], `index byPhoto ${p}`).toEqual(live);
          }
        } finally {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});
