/**
 * @module The writer's side of the lease of DESIGN §3a. While this region is the
 * writer of the newest record it knows, it asks the control plane for the lease of
 * that epoch several times per lease period; it may admit a write only while the
 * lease it holds is for the record's epoch and has not run out on its own monotonic
 * clock (the control plane counts the lease from before it was asked, less the
 * drift margin). A fence asked by this region suspends admission before the fence
 * is proposed, so no write commits after the voters may let another writer in.
 */
import { isWriter, type StateRecord } from '../core/app-state.js';
import { isDomainError } from '../core/errors.js';
import type { ControlPlane, Lease } from '../ports/control-plane.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WriterLeaseOptions {
  appId: string;
  region: string;
  plane: ControlPlane;
  /** Monotonic milliseconds: the clock the control plane counts `validUntil` on. */
  now: () => number;
  /** Renewals per lease period: a lease survives the loss of all but one of them. */
  leaseMs: number;
  renewalsPerPeriod?: number;
  /** The durable head of this region's change log, reported with each renewal. */
  logHead: () => number;
  timers?: Timers;
  /** A voter answered with an epoch newer than the record this region knows. */
  onNewerEpoch?: () => void;
  /** Told when admission starts or stops (logs, metrics). */
  onChange?: (lease: Lease | undefined, why: string) => void;
}

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class WriterLease {
  private lease: Lease | undefined;
  private epoch: number | undefined;
  private suspended = 0;
  private timer: unknown;
  private renewing: Promise<void> | undefined;
  private stopped = false;
  private lastError: string | undefined;

  constructor(private readonly o: WriterLeaseOptions) {}

  /** Whether a write stamped with `epoch` may commit now. */
  admits(epoch: number): boolean {
    const l = this.lease;
    return !!l && this.suspended === 0 && l.epoch === epoch && this.o.now() < l.validUntil;
  }

  /** Whether admission is suspended for a fence this region is proposing. */
  get fencing(): boolean {
    return this.suspended > 0;
  }

  /** The lease held now, with the time left on it (for /status and metrics). */
  status(): { holder: string; epoch: number; remainingMs: number } | undefined {
    const l = this.lease;
    if (!l || this.suspended > 0) return undefined;
    const remainingMs = Math.round(l.validUntil - this.o.now());
    return remainingMs > 0 ? { holder: l.holder, epoch: l.epoch, remainingMs } : undefined;
  }

  /**
   * When the lease held now runs out, on this region's monotonic clock, whether or not
   * it admits (suspended, or for an older epoch): read-only, for the simulation's checks.
   */
  get validUntil(): number | undefined {
    return this.lease?.validUntil;
  }

  /** Why there is no lease, when there is none. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Follows the newest record this region knows: renews while it is the writer, drops the lease otherwise. */
  follow(record: StateRecord | undefined): void {
    if (this.stopped) return;
    const epoch = record && isWriter(record, this.o.region) ? record.epoch : undefined;
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    if (this.lease && this.lease.epoch !== epoch) this.drop(`the state moved to epoch ${record?.epoch}`);
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (epoch !== undefined) void this.renew();
  }

  /**
   * Stops admitting at once (before a fence this region proposes); the returned
   * function resumes unless the record has moved on meanwhile.
   */
  suspend(): () => void {
    this.suspended++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.suspended--;
    };
  }

  /** Gives the lease up (after this region's own fence committed). */
  async release(epoch: number): Promise<void> {
    if (this.lease?.epoch === epoch) this.drop('released after a fence');
    await this.o.plane.release(this.o.appId, this.o.region, epoch).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.drop('stopped');
  }

  /** Asks for the lease once now (also what the timer runs); joins a request already out. */
  renew(): Promise<void> {
    const epoch = this.epoch;
    if (epoch === undefined || this.stopped) return Promise.resolve();
    this.renewing ??= this.renewOnce(epoch).finally(() => {
      this.renewing = undefined;
      this.schedule(epoch);
    });
    return this.renewing;
  }

  private async renewOnce(epoch: number): Promise<void> {
    try {
      const lease = await this.o.plane.acquire({
        appId: this.o.appId,
        holder: this.o.region,
        epoch,
        logHead: this.o.logHead(),
      });
      if (this.epoch !== epoch || this.stopped) return;
      const had = this.admits(epoch);
      if (!this.lease || this.lease.epoch !== epoch || lease.validUntil > this.lease.validUntil) this.lease = lease;
      this.lastError = undefined;
      if (!had) this.o.onChange?.(this.lease, 'lease granted');
    } catch (err) {
      this.lastError = (err as Error).message;
      if (isDomainError(err) && err.details.newerEpoch === true) this.o.onNewerEpoch?.();
    }
  }

  private schedule(epoch: number): void {
    if (this.stopped || this.epoch === undefined) return;
    // The record moved on while this renewal was out: ask for the new epoch's lease now.
    const every = this.epoch === epoch ? this.o.leaseMs / (this.o.renewalsPerPeriod ?? 4) : 0;
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => void this.renew(), every);
  }

  private drop(why: string): void {
    const had = this.lease !== undefined;
    this.lease = undefined;
    if (had) this.o.onChange?.(undefined, why);
  }

  private get timers(): Timers {
    return this.o.timers ?? nodeTimers;
  }
}
