/**
 * @module The shipper's unit-test rig: an origin (log, bodies, its own store for acks
 * and marks) and a peer (an applier on in-memory ports) joined by the loopback
 * transport (src/replication/fake-transport.ts), whose `fate` and `bodyGate` make
 * batches and bodies lost, doubled or late.
 */
import pino from 'pino';
import type { Change } from '../core/change.js';
import { formatHlc, HybridLogicalClock } from '../core/hlc.js';
import type { LogPosition } from '../ports/peer-transport.js';
import { Applier } from './applier.js';
import { LoopbackTransport } from './fake-transport.js';
import { MemoryBodies, MemoryLog, MemoryReplicaStore } from './fakes.js';
import type { WindowLimits } from './ship-window.js';
import { Shipper } from './shipper.js';

export const SELF = 'us-east-1';
export const PEER = { name: 'ap-northeast-1', url: 'http://peer' };
const logger = pino({ level: 'silent' });

export function user(key: string, wall = Date.now()): Change {
  return {
    kind: 'item',
    table: 'users',
    key,
    item: { username: key },
    version: { epoch: 1, hlc: formatHlc({ wall, logical: 0 }), region: SELF },
  };
}

/** An origin (log, bodies, its own store for acks and marks) and a peer (applier on in-memory ports). */
export function setup(
  options: { initial?: LogPosition; log?: MemoryLog; peerStore?: MemoryReplicaStore; window?: WindowLimits } = {},
) {
  const log = options.log ?? new MemoryLog();
  const bodies = new MemoryBodies();
  const originStore = new MemoryReplicaStore(bodies);
  const peerBodies = new MemoryBodies();
  const peerStore = options.peerStore ?? new MemoryReplicaStore(peerBodies);
  const applier = new Applier({
    store: peerStore,
    clock: new HybridLogicalClock(),
  });
  const transport = new LoopbackTransport({ applier, store: peerStore, bodies: peerStore.bodies });
  const acks: number[] = [];
  const rebuilds: string[] = [];
  const make = (initial = options.initial) =>
    new Shipper({
      self: SELF,
      peer: PEER,
      log,
      bodies,
      transport,
      logger,
      epoch: () => 1,
      onPeerEpoch: () => undefined,
      onAck: () => acks.push(shipper.durableAckedSeq),
      ...(initial ? { initial } : {}),
      ...(originStore.rebuildMarks().get(PEER.name) ? { mark: originStore.rebuildMarks().get(PEER.name)! } : {}),
      marks: originStore,
      onNeedsRebuild: (m) => rebuilds.push(m.reason),
      ...(options.window ? { window: options.window } : {}),
    });
  let shipper = make();
  return {
    log,
    bodies,
    originStore,
    peerStore,
    transport,
    applier,
    acks,
    rebuilds,
    get shipper() {
      return shipper;
    },
    restartShipper(initial?: LogPosition) {
      shipper = make(initial);
      return shipper;
    },
    async drain(max = 20) {
      for (let i = 0; i < max && (await shipper.shipOnce()); i++) {
        if (shipper.ackedSeq >= log.durableHead() && shipper.figures().backlog.entries === 0) {
          // One more round: a move to a new log id travels with an empty batch.
          await shipper.shipOnce();
          break;
        }
      }
      await shipper.bodiesSettled();
    },
  };
}

export function write(log: MemoryLog, ...keys: string[]): void {
  for (const k of keys) log.append(user(k));
}
