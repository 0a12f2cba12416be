/**
 * @module Control-plane port (DESIGN §3a): the state record of each app lives in a
 * linearizable compare-and-set register decided by a quorum, and the writer holds a
 * lease granted by that quorum. Two adapters: embedded voters running CASPaxos
 * (src/adapters/voters/) and etcd (src/adapters/etcd/); both run the conformance
 * suite test/conformance/control-plane.case.ts.
 *
 * Contract:
 * - `read` is linearizable: it returns the newest committed record (or undefined
 *   when none was ever committed), never an older one than a `change` that returned
 *   before `read` was called.
 * - `change` applies `next` to the current record and commits the result only if
 *   the register still holds that current record (compare-and-set). `next` may throw
 *   (an illegal transition): nothing is committed and the error is rethrown. The
 *   result's epoch must be the current epoch + 1; the first record's may be any
 *   epoch ≥ 1 (a region that has seen epochs before, say after the voters were
 *   replaced, starts above them). Two different committed records never share an epoch.
 * - A change that moves writes away from a writer whose lease has not run out waits
 *   (up to `timeoutMs`, reported through `onWait`) until it has, except a fence that
 *   the lease holder itself requests (`requester` = the holder).
 * - `acquire` grants or renews the writer lease of `holder` for `epoch`; it fails with
 *   DomainError `no_quorum` unless a majority agrees that `holder` is the writer of
 *   the committed record with that epoch. The returned `validUntil` is on the
 *   caller's monotonic clock (the `now` the adapter was built with), counted from
 *   before the request was sent, less the drift margin: the holder must not admit a
 *   write at or after it.
 * - `release` gives the lease up early (after a fence by the holder); best effort.
 * - Errors an operator can act on are DomainErrors: `no_quorum` (no majority
 *   answered), `conflict` (the register moved under a change), and whatever `next`
 *   threw.
 */
import type { StateRecord } from '../core/app-state.js';

export interface LeaseRequest {
  appId: string;
  holder: string;
  epoch: number;
  /** The holder's durable change-log head: what a forced switch away from it may lose. */
  logHead: number;
}

export interface Lease {
  holder: string;
  epoch: number;
  /** Monotonic milliseconds (the adapter's clock) until which the holder may admit writes. */
  validUntil: number;
}

export interface ChangeOptions {
  /** The region (or "operator") asking; a fence asked by the lease holder itself does not wait. */
  requester: string;
  /** How long to wait for a majority, and for an old writer's lease to run out. */
  timeoutMs: number;
  /** Told while the change waits for a lease to run out. */
  onWait?: (wait: LeaseWait) => void;
}

export interface LeaseWait {
  holder: string;
  epoch: number;
  /** The longest time left on the lease among the voters that refused. */
  remainingMs: number;
}

export interface ChangeOutcome {
  record: StateRecord;
  /** Milliseconds spent waiting for an old writer's lease to run out (0 when none). */
  waitedMs: number;
  /** Whose lease was waited for, when one was. */
  waitedFor?: { holder: string; epoch: number };
}

/** The last log head a writer reported with a lease renewal, as the voters know it. */
export interface WriterReport {
  region: string;
  epoch: number;
  logHead: number;
  /** Milliseconds since the newest report reached a voter. */
  ageMs: number;
}

export interface VoterHealth {
  name: string;
  reachable: boolean;
  error?: string;
  /** The lease this voter has granted, if any is unexpired on its clock. */
  lease?: { holder: string; epoch: number; remainingMs: number };
}

export interface ControlPlane {
  /** How many voters, and how many make a majority. */
  readonly voterCount: number;
  read(appId: string): Promise<StateRecord | undefined>;
  change(
    appId: string,
    next: (current: StateRecord | undefined) => StateRecord,
    options: ChangeOptions,
  ): Promise<ChangeOutcome>;
  acquire(request: LeaseRequest): Promise<Lease>;
  release(appId: string, holder: string, epoch: number): Promise<void>;
  /** The newest head `region` reported while it held a lease (for a forced switch's loss report). */
  lastWriterReport(appId: string, region: string): Promise<WriterReport | undefined>;
  health(appId: string): Promise<VoterHealth[]>;
  close(): Promise<void>;
}

export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}
