import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedStorage, openEmbeddedStorage } from '../embedded.js';
import { SqliteReplicaStore } from './replica-store.js';

describe('SQLite replica store', () => {
  let dir: string;
  let storage: EmbeddedStorage;
  let store: SqliteReplicaStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-replica-store-'));
    storage = await openEmbeddedStorage(dir, [{ name: 'users', key: 'username' }]);
    store = new SqliteReplicaStore({
      tx: storage.tx,
      tables: storage.tables,
      objects: storage.objects,
      localTables: [],
    });
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a barrier from an origin never heard of before (issue 12, case 5)', () => {
    store.transaction(() => store.recordBarrier('us-east-1', 4, 1));
    expect(store.progress('us-east-1')).toMatchObject({ barrierEpoch: 4, barrierSeq: 1, seq: 0, updatedAt: 0 });
    store.transaction(() => store.setApplied('us-east-1', 'a'.repeat(32), 1, 1, 10));
    expect(store.progress('us-east-1')).toMatchObject({ barrierEpoch: 4, seq: 1, logId: 'a'.repeat(32) });
  });

  it('keeps progress per (origin, log id), acknowledgements per peer with their log id, and rebuild marks', () => {
    store.transaction(() => store.setApplied('us-east-1', null, 3, 3, 10));
    expect(store.progress('us-east-1')).toMatchObject({ logId: null, seq: 3 });
    store.transaction(() => store.setApplied('us-east-1', 'b'.repeat(32), 2, 5, 11));
    expect(store.progress('us-east-1')).toMatchObject({ logId: 'b'.repeat(32), seq: 2, originHead: 5 });
    store.recordAcks([{ peer: 'p', logId: 'c'.repeat(32), seq: 7, ackedAt: 1 }]);
    expect(store.acks().get('p')).toEqual({ peer: 'p', logId: 'c'.repeat(32), seq: 7, ackedAt: 1 });
    store.markRebuild({ peer: 'p', reason: 'retention', message: 'p fell behind', markedAt: 5 });
    expect(store.rebuildMarks().get('p')).toMatchObject({ reason: 'retention', message: 'p fell behind' });
    store.clearRebuild('p');
    expect(store.rebuildMarks().size).toBe(0);
  });
});
