/**
 * @module The write-admission rule of DESIGN §3, in one guard every application write
 * goes through: a region accepts a write only if the newest record it has read from
 * the register is `active` or `failover` with itself as `activeRegion`, and it holds
 * an unexpired writer lease for that epoch (§3a). The guard's `stamp` is handed to
 * the stores, which call it inside the write's transaction, so a state change can
 * never slip between the check and the write; `confirm` runs again once the write is
 * durable, before the client is answered, so no write is acknowledged after the lease
 * it committed under has run out.
 */
import { DomainError } from '../core/errors.js';
import type { HybridLogicalClock } from '../core/hlc.js';
import type { Version } from '../core/version.js';
import type { StateService } from './state.service.js';
import type { WriterLease } from './writer-lease.js';

/** Seconds a client is told to wait before retrying a write refused while fenced. */
export const FENCED_RETRY_AFTER_SECONDS = 2;
/** Seconds a client is told to wait while the regions cannot agree. */
export const NO_QUORUM_RETRY_AFTER_SECONDS = 1;

export class WriteAdmission {
  constructor(
    private readonly deps: {
      appId: string;
      region: string;
      state: StateService;
      lease: WriterLease;
      clock: HybridLogicalClock;
      regionUrl: (name: string) => string | undefined;
    },
  ) {}

  /** Throws the refusal a client should see, or returns the version to stamp the write with. */
  stamp(): Version {
    const { appId, region, state } = this.deps;
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
    this.requireLease(record.epoch);
    return { epoch: record.epoch, hlc: this.deps.clock.tick(), region };
  }

  /** Throws unless this region still holds the writer lease of `epoch` (after a write became durable). */
  confirm(epoch: number): void {
    this.requireLease(epoch, 'before the write was on disk; it may still take effect');
  }

  private requireLease(epoch: number, when?: string): void {
    if (this.deps.lease.admits(epoch)) return;
    if (this.deps.lease.fencing) {
      throw new DomainError('fenced', 'writes are paused: the application is being fenced', {
        retryAfter: FENCED_RETRY_AFTER_SECONDS,
        activeRegion: this.deps.region,
        epoch,
      });
    }
    const why = this.deps.lease.error ? ` (${this.deps.lease.error})` : '';
    throw new DomainError(
      'no_quorum',
      `writes are paused: ${this.deps.region} does not hold the writer lease of epoch ${epoch}` +
        `${when ? ` ${when}` : ''}; the regions cannot agree without a majority of voters${why}`,
      { retryAfter: NO_QUORUM_RETRY_AFTER_SECONDS, epoch },
    );
  }
}
