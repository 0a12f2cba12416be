import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { LogPosition, PeerTransport } from '../ports/peer-transport.js';
import { MemoryLog } from './fakes.js';
import { settleLogIdentity } from './log-identity.js';

const logger = pino({ level: 'silent' });
const PEERS = [
  { name: 'ap-northeast-1', url: 'http://a' },
  { name: 'eu-west-1', url: 'http://b' },
];

function logWith(head: number): MemoryLog {
  const log = new MemoryLog();
  for (let i = 0; i < head; i++) log.append({ kind: 'barrier', appId: 'a', epoch: 1 });
  return log;
}

function answering(positions: Record<string, LogPosition | 'down'>): Pick<PeerTransport, 'position'> {
  return {
    position: async (peer) => {
      const p = positions[peer.name];
      if (p === undefined || p === 'down') throw new Error('ECONNREFUSED');
      return p;
    },
  };
}

describe('log identity at start-up', () => {
  it('keeps the log id when no peer has applied more of it than the log holds', async () => {
    const log = logWith(5);
    const L1 = log.segments()[0]!.logId;
    const outcome = await settleLogIdentity({
      self: 'us-east-1',
      peers: PEERS,
      log,
      transport: answering({ 'ap-northeast-1': { logId: L1, seq: 5 }, 'eu-west-1': { logId: null, seq: 0 } }),
      logger,
    });
    expect(outcome).toEqual({ kind: 'kept', logId: L1 });
    expect(log.segments()).toHaveLength(1);
  });

  it('starts a new log id after the head when a peer applied more of it (restored from a backup: issue 12, case 1)', async () => {
    const log = logWith(3);
    const L1 = log.segments()[0]!.logId;
    const outcome = await settleLogIdentity({
      self: 'us-east-1',
      peers: PEERS,
      log,
      transport: answering({ 'ap-northeast-1': { logId: L1, seq: 5 }, 'eu-west-1': { logId: L1, seq: 2 } }),
      logger,
    });
    expect(outcome.kind).toBe('new-log-id');
    if (outcome.kind !== 'new-log-id') return;
    expect(outcome.why).toBe('behind-peer');
    expect(outcome.message).toMatch(/log ends at 3, but ap-northeast-1 has applied up to 5/);
    expect(log.segments()).toHaveLength(2);
    expect(log.segments()[1]).toMatchObject({ base: 3, logId: outcome.segment.logId });
    expect(log.segments()[1]!.reason).toMatch(/^behind-peer: /);
  });

  it('also when a peer cannot be asked: it might hold what this region lost', async () => {
    const log = logWith(3);
    const outcome = await settleLogIdentity({
      self: 'us-east-1',
      peers: PEERS,
      log,
      transport: answering({ 'ap-northeast-1': { logId: null, seq: 0 }, 'eu-west-1': 'down' }),
      logger,
      waitMs: 300,
    });
    expect(outcome).toMatchObject({ kind: 'new-log-id', why: 'unchecked' });
    expect(log.segments()).toHaveLength(2);
  });
});
