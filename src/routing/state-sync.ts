/**
 * @module The state check: a region that starts asks every peer for its state record
 * and keeps the newest, so a region that was down while the state changed (an old
 * primary after a failover) learns it before it accepts a single write. A region
 * that hears of a higher epoch from a peer asks that peer the same way.
 */
import type { Logger } from 'pino';
import type { PeerClient } from '../peers/peer-client.js';
import type { StoredItem } from '../ports/table-store.js';
import type { StateService } from './state.service.js';

export interface PeerRef {
  name: string;
  url: string;
}

export const STARTUP_CHECK_TIMEOUT_MS = 2_000;

export class StateSync {
  constructor(
    private readonly deps: {
      appId: string;
      state: StateService;
      peers: readonly PeerRef[];
      client: PeerClient;
      logger: Logger;
    },
  ) {}

  /** Ask every peer (or the one named) once; returns the peers that answered. */
  async pullFromPeers({
    only,
    timeoutMs = STARTUP_CHECK_TIMEOUT_MS,
  }: {
    only?: string;
    timeoutMs?: number;
  } = {}): Promise<string[]> {
    const { appId, state, client, logger } = this.deps;
    const peers = only ? this.deps.peers.filter((p) => p.name === only) : this.deps.peers;
    const answers = await Promise.allSettled(
      peers.map(async (peer) => {
        const stored = await client.call<StoredItem>(
          peer.url,
          'GET',
          `/internal/state/${encodeURIComponent(appId)}`,
          undefined,
          { timeoutMs },
        );
        return { peer, stored };
      }),
    );
    const answered: string[] = [];
    for (const a of answers) {
      if (a.status === 'rejected') {
        logger.info({ err: (a.reason as Error).message }, 'state check: a peer did not answer');
        continue;
      }
      answered.push(a.value.peer.name);
      if (state.adoptPeerRecord(a.value.stored)) {
        const r = state.get(appId)!;
        logger.warn(
          { from: a.value.peer.name, state: r.state, activeRegion: r.activeRegion, epoch: r.epoch },
          'adopted a newer state from a peer',
        );
      }
    }
    return answered;
  }
}
