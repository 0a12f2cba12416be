/**
 * @module The start-up check: a region that starts asks every peer for its state
 * record and keeps the newest, so a region that was down while the state changed
 * (an old primary after a failover) learns it before it accepts a single write.
 */
import type { Logger } from 'pino';
import type { StoredItem } from '../ports/table-store.js';
import type { PeerClient } from '../peers/peer-client.js';
import type { StateService } from './state.service.js';

export interface PeerRef {
  name: string;
  url: string;
}

export const STARTUP_CHECK_TIMEOUT_MS = 2_000;

export const UNKNOWN_STATE_RETRY_MS = 1_000;

export class StateSync {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  constructor(
    private readonly deps: { appId: string; state: StateService; peers: readonly PeerRef[]; client: PeerClient; logger: Logger },
  ) {}

  /** Ask every peer once; returns the peers that answered. */
  async pullFromPeers(timeoutMs = STARTUP_CHECK_TIMEOUT_MS): Promise<string[]> {
    const { appId, state, peers, client, logger } = this.deps;
    const answers = await Promise.allSettled(
      peers.map(async (peer) => {
        const stored = await client.call<StoredItem>(peer.url, 'GET', `/internal/state/${encodeURIComponent(appId)}`, undefined, { timeoutMs });
        return { peer, stored };
      }),
    );
    const answered: string[] = [];
    for (const a of answers) {
      if (a.status === 'rejected') {
        logger.info({ err: (a.reason as Error).message }, 'start-up check: a peer did not answer');
        continue;
      }
      answered.push(a.value.peer.name);
      if (state.adoptPeerRecord(a.value.stored)) {
        const r = state.get(appId)!;
        logger.warn({ from: a.value.peer.name, state: r.state, activeRegion: r.activeRegion, epoch: r.epoch }, 'start-up check: adopted a newer state from a peer');
      }
    }
    return answered;
  }

  /** A region that starts with no record of the app (a new secondary) asks again until a peer has one. */
  keepPullingUntilKnown(): void {
    const again = async () => {
      this.timer = undefined;
      if (this.deps.state.get(this.deps.appId)) return;
      await this.pullFromPeers();
      if (!this.stopped && !this.deps.state.get(this.deps.appId)) this.timer = setTimeout(again, UNKNOWN_STATE_RETRY_MS);
    };
    if (!this.deps.state.get(this.deps.appId)) this.timer = setTimeout(again, UNKNOWN_STATE_RETRY_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
