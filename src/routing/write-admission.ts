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

  /** Throws the refusal a client should see, or returns the version to stamp the write with. */
  stamp(): Version {
    const { appId, region, state } = this.deps;
    if (!this.ready) {
      throw new DomainError('unavailable', `${region} is starting: it is checking its peers for a newer state`, { retryAfter: 1 });
    }
    const record = state.require(appId);
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
