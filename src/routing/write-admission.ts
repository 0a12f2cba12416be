/**
 * @module The write-admission rule of DESIGN §3, in one guard every application write
 * goes through: a region accepts a write only if its newest record is `active` or
 * `failover` with itself as `activeRegion`. The guard's `stamp` is handed to the
 * stores, which call it inside the write's transaction, so a state change can never
 * slip between the check and the write.
 */
import { DomainError } from '../core/errors.js';
import type { HybridLogicalClock } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { StateService } from './state.service.js';

/** Seconds a client is told to wait before retrying a write refused while fenced. */
export const FENCED_RETRY_AFTER_SECONDS = 2;

export class WriteAdmission {
  private ready = false;
  /** The highest epoch a peer has told of, before its record arrived here. */
  private heardEpoch = 0;

  constructor(
    private readonly deps: {
      appId: string;
      region: string;
      state: StateService;
      clock: HybridLogicalClock;
      regionUrl: (name: string) => string | undefined;
    },
  ) {}

  /** Writes are refused until the start-up check has asked the peers for a newer state. */
  markReady(): void {
    this.ready = true;
  }

  /**
   * A peer knows a newer epoch than this region's record: stop accepting writes at
   * once, until the newer record arrives and says who the writer is.
   */
  heardOfEpoch(epoch: number): void {
    this.heardEpoch = Math.max(this.heardEpoch, epoch);
  }

  /** Throws the refusal a client should see, or returns the version to stamp the write with. */
  stamp(): Version {
    const { appId, region, state } = this.deps;
    if (!this.ready) {
      throw new DomainError('unavailable', `${region} is starting: it is checking its peers for a newer state`, {
        retryAfter: 1,
      });
    }
    const record = state.require(appId);
    if (this.heardEpoch > record.epoch) {
      throw new DomainError(
        'unavailable',
        `${region} has heard of a newer state (epoch ${this.heardEpoch}) and is fetching it`,
        { retryAfter: 1 },
      );
    }
    if (record.state === 'fenced') {
      throw new DomainError('fenced', 'writes are paused while the application is fenced', {
        retryAfter: FENCED_RETRY_AFTER_SECONDS,
        activeRegion: record.activeRegion,
        epoch: record.epoch,
      });
    }
    if (record.activeRegion !== region) {
      throw new DomainError('not_active_region', `${region} is passive; writes go to ${record.activeRegion}`, {
        activeRegion: record.activeRegion,
        activeUrl: this.deps.regionUrl(record.activeRegion) ?? null,
        epoch: record.epoch,
      });
    }
    return { epoch: record.epoch, hlc: this.deps.clock.tick(), region };
  }

  /** The same check without a version: to refuse a write before streaming its body. */
  check(): void {
    this.stamp();
  }
}
