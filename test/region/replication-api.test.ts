/**
 * The replication endpoints of one region, driven by signed batches as a peer would
 * send them: what the applier records, answers and refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc, parseHlc } from '../../src/core/hlc.js';
import { sha256Hex, signPeerRequest } from '../../src/peers/peer-auth.js';
import { BATCH_PATH, POSITION_PATH } from '../../src/ports/peer-transport.js';
import { call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
/** Two log ids of the secondary: the one it was created with, and one it started after a restore. */
const L1 = 'a1'.repeat(16);
const L2 = 'b2'.repeat(16);

describe('replication API of one region', () => {
  let fx: Fixture;
  let admin: string;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start(P);
    admin = await fx.token('admin', 'admin');
  });
  afterAll(async () => fx.close());

  function signed(method: string, path: string, text = '') {
    return signPeerRequest(fx.config.secrets.replicationKey, {
      method,
      path,
      region: S,
      contentSha256: sha256Hex(text),
    });
  }

  async function batch(body: Record<string, unknown>) {
    const text = JSON.stringify({ origin: S, pendingSince: null, epoch: 1, entries: [], ...body });
    return call(fx.url(P), 'POST', BATCH_PATH, {
      body: text,
      headers: { 'content-type': 'application/json', ...signed('POST', BATCH_PATH, text) },
    });
  }

  const user = (seq: number, username: string, wall = Date.now()) => ({
    seq,
    createdAt: wall,
    bytes: 100,
    change: {
      kind: 'item',
      table: 'users',
      key: username,
      item: { username, role: 'user', passwordHash: 'x', createdAt: new Date(wall).toISOString() },
      version: { epoch: 1, hlc: formatHlc({ wall, logical: 0 }), region: S },
    },
  });

  async function users(): Promise<string[]> {
    const path = '/internal/digest/table/users';
    const res = await call(fx.url(P), 'GET', path, { headers: signed('GET', path) });
    return Object.keys(res.body.keys as Record<string, string>);
  }

  async function origin() {
    const status = await call(fx.url(P), 'GET', '/status', { token: admin });
    return (status.body.origins as Array<Record<string, any>>).find((o) => o.name === S)!;
  }

  it('records a barrier that arrives in the first batch from an origin (issue 12, case 5)', async () => {
    const res = await batch({
      logId: L1,
      move: { from: { logId: null, seq: 0 }, at: 0 },
      originHead: 1,
      entries: [{ seq: 1, createdAt: Date.now(), bytes: 40, change: { kind: 'barrier', appId: 'photos', epoch: 1 } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ logId: L1, applied: 1 });
    const drain = await call(fx.url(P), 'GET', `/replication/drain?from=${S}&epoch=1`, { token: admin });
    expect(drain.body).toMatchObject({ drained: true, applied: 1 });
  });

  it('does not trust an inflated epoch in a batch: it only reads the register, and writes go on (issue 12, case 4)', async () => {
    const res = await batch({ logId: L1, originHead: 1, epoch: 2 ** 52 });
    expect(res.status).toBe(200);
    expect(res.body.epoch).toBe(1);
    for (let i = 0; i < 3; i++) {
      const write = await call(fx.url(P), 'POST', '/users', {
        token: admin,
        json: { username: `after-epoch-${i}`, password: 'a-password-long-enough' },
      });
      expect(write.status, JSON.stringify(write.body)).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await call(fx.url(P), 'GET', '/state/photos')).body).toMatchObject({ epoch: 1, activeRegion: P });
  });

  it('tells a peer where it is in an origin’s log, signed', async () => {
    const path = `${POSITION_PATH}${S}`;
    const res = await call(fx.url(P), 'GET', path, { headers: signed('GET', path) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ logId: L1, seq: 1 });
    expect(res.headers.get('x-mraa-response-signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies nothing from a log id it does not follow unless moved there from where it is', async () => {
    await batch({ logId: L1, originHead: 3, entries: [user(2, 'ann'), user(3, 'bob')] });
    expect(await users()).toEqual(expect.arrayContaining(['ann', 'bob']));
    // A batch of another log id, without a move, or with a move from a position it is not at.
    const stray = await batch({ logId: L2, originHead: 3, entries: [user(3, 'cy')] });
    expect(stray.body).toMatchObject({ logId: L1, applied: 3 });
    const wrongFrom = await batch({
      logId: L2,
      move: { from: { logId: L1, seq: 2 }, at: 2 },
      originHead: 3,
      entries: [user(3, 'cy')],
    });
    expect(wrongFrom.body).toMatchObject({ logId: L1, applied: 3 });
    expect(await users()).not.toContain('cy');
  });

  it('follows a new log id from its start and keeps what it applied of the old one (issue 12, case 1)', async () => {
    // The origin was restored to a backup whose log ends at 2 and started L2 there: its
    // new entry 3 is another write than L1's 3, which this region keeps.
    const moved = await batch({
      logId: L2,
      move: { from: { logId: L1, seq: 3 }, at: 2 },
      originHead: 4,
      entries: [user(3, 'cy'), user(4, 'dee')],
    });
    expect(moved.body).toMatchObject({ logId: L2, applied: 4, missingBlobs: [] });
    expect(await users()).toEqual(expect.arrayContaining(['ann', 'bob', 'cy', 'dee']));
    expect(await origin()).toMatchObject({ logId: L2, appliedSeq: 4, state: { kind: 'following' } });
    // A duplicate of the move is answered with the position, applying nothing twice.
    const again = await batch({
      logId: L2,
      move: { from: { logId: L1, seq: 3 }, at: 2 },
      originHead: 4,
      entries: [user(3, 'cy'), user(4, 'dee')],
    });
    expect(again.body).toMatchObject({ logId: L2, applied: 4 });
  });

  it('refuses a batch whose clock is too far ahead: nothing applied, nothing adopted, said in /status', async () => {
    const ahead = Date.now() + 60_000;
    const res = await batch({ logId: L2, originHead: 6, entries: [user(5, 'eve'), user(6, 'fay', ahead)] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ logId: L2, applied: 4, refused: { reason: 'clock_ahead' } });
    expect(res.body.refused.aheadMs).toBeGreaterThan(50_000);
    expect(await users()).not.toContain('eve');
    const o = await origin();
    expect(o.state).toMatchObject({ kind: 'refused', reason: 'clock_ahead' });
    expect(o.state.message).toMatch(/^refused: clock ahead by \d+ ms$/);
    // A local write afterwards is stamped by this region's own clock, not the refused one.
    const write = await call(fx.url(P), 'POST', '/users', {
      token: admin,
      json: { username: 'after-refusal', password: 'a-password-long-enough' },
    });
    expect(write.status).toBe(201);
    const stored = await fx.regions.get(P)!.storage.tables.getVersioned('users', 'after-refusal');
    expect(parseHlc(stored!.version.hlc).wall).toBeLessThan(ahead - 50_000);
    // The same entries with an honest clock are applied, and the state clears.
    const fixed = await batch({ logId: L2, originHead: 6, entries: [user(5, 'eve'), user(6, 'fay')] });
    expect(fixed.body).toMatchObject({ logId: L2, applied: 6 });
    expect((await origin()).state).toEqual({ kind: 'following' });
  });
});
