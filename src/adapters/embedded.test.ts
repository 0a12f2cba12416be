/**
 * The embedded storage and the clock (DESIGN §5, clocks): the highest version on disk
 * seeds the clock, so a restart with the wall clock set back still writes versions that
 * win; a local write that would not win is refused and told to the loser listeners.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../core/errors.js';
import { formatHlc, HybridLogicalClock, parseHlc } from '../core/hlc.js';
import type { Stamp, TableDefinition } from '../ports/table-store.js';
import { type EmbeddedStorage, openEmbeddedStorage } from './embedded.js';
import type { LocalLoser } from './sqlite/table-store.js';

const TABLES: TableDefinition[] = [{ name: 'things', key: 'id' }];
const T0 = 1_700_000_000_000;

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const body = (s: string) => Readable.from([Buffer.from(s)]);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (isDomainError(err)) return err.code;
    throw err;
  }
}

describe('embedded storage and the clock', () => {
  let root: string;
  let storage: EmbeddedStorage | undefined;
  const open = async () => {
    storage = await openEmbeddedStorage(join(root, 'data'), TABLES);
    return storage;
  };
  const stampFrom =
    (clock: HybridLogicalClock): Stamp =>
    () => ({ epoch: 1, hlc: clock.tick(), region: 'r1' });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mraa-embedded-clock-'));
  });
  afterEach(async () => {
    await storage?.close();
    storage = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('reports the highest HLC it holds, items and objects, tombstones and markers included', async () => {
    const s = await open();
    expect(s.highestHlc()).toBeUndefined();
    const at =
      (wall: number): Stamp =>
      () => ({ epoch: 1, hlc: formatHlc({ wall, logical: 0 }), region: 'r1' });
    await s.tables.put('things', { id: 'a' }, { stamp: at(T0 + 10) });
    expect(s.highestHlc()).toBe(formatHlc({ wall: T0 + 10, logical: 0 }));
    await s.objects.put('photos', 'o', body('x'), { stamp: at(T0 + 20) });
    expect(s.highestHlc()).toBe(formatHlc({ wall: T0 + 20, logical: 0 }));
    await s.tables.delete('things', 'a', { stamp: at(T0 + 30) });
    expect(s.highestHlc()).toBe(formatHlc({ wall: T0 + 30, logical: 0 }));
    await s.objects.delete('photos', 'o', { stamp: at(T0 + 40) });
    expect(s.highestHlc()).toBe(formatHlc({ wall: T0 + 40, logical: 0 }));
    // A malformed value left on disk by an older version (a 16-digit overflow) is not a seed.
    s.db
      .prepare("INSERT INTO items (tbl, pk, data, epoch, hlc, region) VALUES ('things', 'bad', '{}', 1, ?, 'r1')")
      .run('1000000000000000-000000');
    expect(s.highestHlc()).toBe(formatHlc({ wall: T0 + 40, logical: 0 }));
  });

  it('after a restart with the wall clock 5 s behind, a PUT and a DELETE take effect (clock seeded from disk)', async () => {
    let now = T0;
    let s = await open();
    const before = new HybridLogicalClock(() => now);
    await s.objects.put('photos', 'k', body('old body'), { stamp: stampFrom(before), contentType: 'text/plain' });
    await s.tables.put('things', { id: 'k', n: 1 }, { stamp: stampFrom(before) });
    await s.close();
    storage = undefined;

    now = T0 - 5000;
    s = await open();
    const after = new HybridLogicalClock({ now: () => now, seed: s.highestHlc() });
    const put = await s.objects.put('photos', 'k', body('new body'), {
      stamp: stampFrom(after),
      contentType: 'text/plain',
    });
    expect(put.isLatest).toBe(true);
    expect(parseHlc(put.version.hlc).wall).toBe(T0);
    const got = await s.objects.get('photos', 'k');
    expect(got.meta.versionId).toBe(put.versionId);
    expect(await text(got.body)).toBe('new body');
    await s.tables.put('things', { id: 'k', n: 2 }, { stamp: stampFrom(after) });
    expect(await s.tables.get('things', 'k')).toEqual({ id: 'k', n: 2 });

    const marker = await s.objects.delete('photos', 'k', { stamp: stampFrom(after) });
    expect(marker.isLatest).toBe(true);
    expect(await codeOf(s.objects.get('photos', 'k'))).toBe('not_found');
    await s.tables.delete('things', 'k', { stamp: stampFrom(after) });
    expect(await s.tables.get('things', 'k')).toBeUndefined();
  });

  it('without the seed, the losing local writes are refused (409) and reported, never acknowledged', async () => {
    let now = T0;
    let s = await open();
    const before = new HybridLogicalClock(() => now);
    const kept = await s.objects.put('photos', 'k', body('kept'), { stamp: stampFrom(before) });
    const item = await s.tables.put('things', { id: 'k', n: 1 }, { stamp: stampFrom(before) });
    await s.close();
    storage = undefined;

    now = T0 - 5000;
    s = await open();
    const losers: LocalLoser[] = [];
    s.objects.onLocalLoser((l) => losers.push(l));
    s.tables.onLocalLoser((l) => losers.push(l));
    // A listener that fails does not hide the conflict.
    s.tables.onLocalLoser(() => {
      throw new Error('conflict log unavailable');
    });
    const unseeded = new HybridLogicalClock(() => now);
    expect(await codeOf(s.objects.put('photos', 'k', body('lost'), { stamp: stampFrom(unseeded) }))).toBe('conflict');
    expect(await codeOf(s.objects.delete('photos', 'k', { stamp: stampFrom(unseeded) }))).toBe('conflict');
    expect(await codeOf(s.tables.put('things', { id: 'k', n: 2 }, { stamp: stampFrom(unseeded) }))).toBe('conflict');
    expect(await codeOf(s.tables.delete('things', 'k', { stamp: stampFrom(unseeded) }))).toBe('conflict');

    expect(await text((await s.objects.get('photos', 'k')).body)).toBe('kept');
    expect(await s.tables.get('things', 'k')).toEqual({ id: 'k', n: 1 });
    expect((await s.objects.listVersions('photos', { prefix: 'k' })).items).toHaveLength(1);
    // Nothing refused reached the change log (the peers never see it).
    expect(s.log.head()).toBe(2);

    expect(losers.map((l) => [l.kind, l.name, l.key, l.origin])).toEqual([
      ['object', 'photos', 'k', 'r1'],
      ['object', 'photos', 'k', 'r1'],
      ['item', 'things', 'k', 'r1'],
      ['item', 'things', 'k', 'r1'],
    ]);
    expect(losers[0]!.winner).toMatchObject({ versionId: kept.versionId, version: kept.version });
    expect(losers[0]!.loser).toMatchObject({ kind: 'object', deleteMarker: false, key: 'k' });
    expect(losers[1]!.loser).toMatchObject({ kind: 'object', deleteMarker: true, key: 'k' });
    expect(losers[2]!.winner).toEqual(item);
    expect(losers[3]!.loser).toMatchObject({ kind: 'item', table: 'things', key: 'k', item: null });
  });
});
