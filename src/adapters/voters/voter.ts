/**
 * @module A voter of the embedded control plane: a CASPaxos acceptor (Denis Rystsov,
 * "CASPaxos: Replicated State Machines without logs", 2018, arXiv:1802.07000) for
 * one register per app, extended with writer leases (DESIGN §3a).
 *
 * - prepare(b): promise b if it is higher than any promise; answer the accepted value.
 * - accept(b, v): accept if b is not below the promise, unless v moves writes away
 *   from a holder whose lease this voter granted and has not yet run out (a fence
 *   asked by the holder itself excepted; the lease outlives that fence, until it runs
 *   out or the holder releases it). A refused move also stops renewals of that
 *   lease, so a forced switch waits at most one lease period.
 * - Promises and accepted values reach the disk (VoterStorage, fsynced) before the
 *   answer; leases live in memory only: a voter that restarts treats the writer of
 *   its accepted value (the fenced writer, under a fence) as holding a lease for one
 *   full lease period.
 * - grant(holder, epoch): granted when the accepted value names `holder` as the
 *   writer at `epoch`; the lease runs `durationMs` on this voter's monotonic clock
 *   from when the request arrived.
 *
 * Requests for one app are handled one at a time, in arrival order.
 */
import { isWriter } from '../../core/app-state.js';
import {
  type Accepted,
  compareBallots,
  type DurableVoterState,
  type LeaseInfo,
  type RegisterValue,
  type VoterEndpoint,
  type VoterReply,
  type VoterRequest,
} from '../../ports/voter-protocol.js';

/** The only sender whose `seed` a voter takes: the operator's CLI (`mraa voters replace`). */
export const SEED_SENDER = 'operator';

export interface VoterStorage {
  load(appId: string): Promise<DurableVoterState | undefined>;
  /** Resolves once the state is on disk (fsynced). */
  save(appId: string, state: DurableVoterState): Promise<void>;
}

interface Grant {
  holder: string;
  epoch: number;
  until: number;
}

interface AppVoterState extends DurableVoterState {
  grant: Grant | null;
  /** Renewals of this lease are refused until `until`: a change waits for the lease to run out. */
  blocked: Grant | null;
  reports: Map<string, { epoch: number; logHead: number; at: number }>;
}

export interface VoterOptions {
  storage: VoterStorage;
  /** This process's monotonic clock, in milliseconds. */
  now: () => number;
  /** The configured lease period: how long a restarted voter honours unknown leases. */
  leaseMs: number;
}

export class Voter implements VoterEndpoint {
  private readonly apps = new Map<string, Promise<AppVoterState>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: VoterOptions) {}

  /** Handles one request from `from` (the authenticated sender). */
  handle(request: VoterRequest, from: string): Promise<VoterReply> {
    const prev = this.queues.get(request.appId) ?? Promise.resolve();
    const next = prev.then(
      () => this.dispatch(request, from),
      () => this.dispatch(request, from),
    );
    this.queues.set(
      request.appId,
      next.catch(() => undefined),
    );
    return next;
  }

  private async dispatch(request: VoterRequest, from: string): Promise<VoterReply> {
    const app = await this.app(request.appId);
    switch (request.op) {
      case 'peek':
        return { ok: true, op: 'peek', accepted: app.accepted };
      case 'prepare':
        if (
          compareBallots(request.ballot, app.promise) <= 0 ||
          compareBallots(request.ballot, app.accepted?.ballot ?? null) <= 0
        ) {
          return {
            ok: false,
            op: 'prepare',
            reason: 'ballot',
            promised: higher(app.promise, app.accepted?.ballot ?? null),
          };
        }
        await this.persist(request.appId, app, { promise: request.ballot, accepted: app.accepted });
        return { ok: true, op: 'prepare', accepted: app.accepted };
      case 'accept':
        return this.accept(request.appId, app, { ballot: request.ballot, value: request.value }, from);
      case 'grant':
        return this.grant(app, request);
      case 'release':
        if (app.grant && app.grant.holder === request.holder && app.grant.epoch === request.epoch) app.grant = null;
        return { ok: true, op: 'release' };
      case 'seed':
        // Overrides the promise, the accepted value and any lease: only the operator's break-glass may.
        if (from !== SEED_SENDER) return { ok: false, op: 'seed', reason: 'forbidden' };
        await this.persist(request.appId, app, {
          promise: request.ballot,
          accepted: { ballot: request.ballot, value: request.value },
        });
        app.grant = null;
        app.blocked = null;
        return { ok: true, op: 'seed' };
      case 'status': {
        const now = this.options.now();
        return {
          ok: true,
          op: 'status',
          lease: this.leaseInfo(app),
          accepted: app.accepted,
          reports: [...app.reports].map(([region, r]) => ({
            region,
            epoch: r.epoch,
            logHead: r.logHead,
            ageMs: Math.max(0, now - r.at),
          })),
        };
      }
    }
  }

  private async accept(appId: string, app: AppVoterState, proposal: Accepted, from: string): Promise<VoterReply> {
    if (compareBallots(proposal.ballot, app.promise) < 0) {
      return { ok: false, op: 'accept', reason: 'ballot', promised: app.promise! };
    }
    const lease = this.leaseInfo(app);
    const grant = app.grant;
    if (lease && grant && movesWritesAway(grant, proposal.value, from)) {
      // Renewals stay refused for a full period after the lease ends, so the refused change
      // gets its turn: refused only until the lease ends, a holder that renews the moment it
      // may could hold this voter's grant for ever and the change (a read that repairs
      // the register, a forced switch) would never be accepted here.
      app.blocked = { holder: grant.holder, epoch: grant.epoch, until: grant.until + this.options.leaseMs };
      return { ok: false, op: 'accept', reason: 'lease', lease };
    }
    await this.persist(appId, app, { promise: proposal.ballot, accepted: proposal });
    // The holder's own fence does not end its lease here: until the lease runs out, or
    // the holder releases it once it knows its fence committed, the grant still blocks
    // any change that moves writes to another region. The holder may still be admitting:
    // its fence can fail on its side (answers lost) after being accepted here, or be
    // proposed before it knew it was the writer. (This cleared the grant of every value
    // that did not keep the writer, the holder's fence included: a forced switch to
    // another region at the fence's epoch was then accepted at once, while the holder
    // still admitted. Found by test/simulation, e.g. SIM_SEED=1257: a fence committed
    // though its proposer saw it fail and resumed; the graceful switch after it did not wait.)
    if (grant && !lease) app.grant = null;
    return { ok: true, op: 'accept' };
  }

  private grant(app: AppVoterState, request: Extract<VoterRequest, { op: 'grant' }>): VoterReply {
    const now = this.options.now();
    const record = app.accepted?.value.record;
    if (!record || record.epoch !== request.epoch || !isWriter(record, request.holder)) {
      return { ok: false, op: 'grant', reason: 'not_writer', epoch: record?.epoch ?? null };
    }
    const b = app.blocked;
    if (b && b.holder === request.holder && b.epoch === request.epoch && now < b.until) {
      return { ok: false, op: 'grant', reason: 'moving', epoch: record.epoch };
    }
    const until = now + request.durationMs;
    app.grant = { holder: request.holder, epoch: request.epoch, until: Math.max(until, app.grant?.until ?? 0) };
    app.reports.set(request.holder, { epoch: request.epoch, logHead: request.logHead, at: now });
    return { ok: true, op: 'grant' };
  }

  private leaseInfo(app: AppVoterState): LeaseInfo | null {
    const now = this.options.now();
    if (!app.grant || app.grant.until <= now) return null;
    return { holder: app.grant.holder, epoch: app.grant.epoch, remainingMs: app.grant.until - now };
  }

  private async persist(appId: string, app: AppVoterState, next: DurableVoterState): Promise<void> {
    await this.options.storage.save(appId, next);
    app.promise = next.promise;
    app.accepted = next.accepted;
  }

  private app(appId: string): Promise<AppVoterState> {
    let state = this.apps.get(appId);
    if (!state) {
      state = this.load(appId);
      this.apps.set(appId, state);
      state.catch(() => this.apps.delete(appId));
    }
    return state;
  }

  /**
   * A voter that starts does not know which leases it granted: it honours the writer's
   * for a full period. Under a fenced record that is the fenced writer's lease of the
   * epoch before: its own fence does not end it (see accept), so a voter restarted
   * after accepting the fence must not let a new writer in at once either.
   */
  private async load(appId: string): Promise<AppVoterState> {
    const durable = (await this.options.storage.load(appId)) ?? { promise: null, accepted: null };
    const record = durable.accepted?.value.record;
    const grant = record
      ? {
          holder: record.activeRegion,
          epoch: record.state === 'fenced' ? record.epoch - 1 : record.epoch,
          until: this.options.now() + this.options.leaseMs,
        }
      : null;
    return { ...durable, grant, blocked: null, reports: new Map() };
  }
}

function higher(a: Accepted['ballot'] | null, b: Accepted['ballot'] | null): Accepted['ballot'] {
  return (compareBallots(a, b) >= 0 ? a : b) ?? { n: 0, by: '' };
}

function keepsWriter(grant: Grant, record: RegisterValue['record']): boolean {
  return record.epoch === grant.epoch && isWriter(record, grant.holder);
}

/** Whether accepting `value` would let someone other than the lease holder write. */
function movesWritesAway(grant: Grant, value: RegisterValue, from: string): boolean {
  if (keepsWriter(grant, value.record)) return false;
  const fenceByHolder =
    from === grant.holder &&
    value.record.state === 'fenced' &&
    value.record.activeRegion === grant.holder &&
    value.record.epoch === grant.epoch + 1;
  return !fenceByHolder;
}
