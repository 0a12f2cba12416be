/**
 * @module The control-plane port on embedded voters: a CASPaxos proposer (Rystsov,
 * "CASPaxos: Replicated State Machines without logs", 2018) for the state register,
 * and the writer lease asked of every voter (src/adapters/voters/voter.ts).
 *
 * A change: prepare a fresh ballot at every voter; from a majority of promises take
 * the newest value that may have been chosen; apply the change to it; accept it at
 * every voter; done when a majority accepts. A refusal because a lease has not run
 * out is waited for (the voters stop renewing it meanwhile), then the change is tried
 * again with a new ballot; a change whose value was already partly accepted is
 * recognised by its id and only completed, never applied twice.
 *
 * A read asks every voter for its accepted value; when a majority hold the same
 * newest ballot that value is chosen. Otherwise it runs a full round that writes
 * the newest possibly chosen value back (identity change).
 */
import { randomUUID } from 'node:crypto';
import type { StateRecord } from '../../core/app-state.js';
import { DomainError, isDomainError } from '../../core/errors.js';
import {
  type ChangeOptions,
  type ChangeOutcome,
  type ControlPlane,
  type Lease,
  type LeaseRequest,
  majorityOf,
  type VoterHealth,
  type WriterReport,
} from '../../ports/control-plane.js';
import {
  type Accepted,
  type Ballot,
  compareBallots,
  type LeaseInfo,
  type RegisterValue,
  type VoterLink,
  type VoterReply,
  type VoterRequest,
} from '../../ports/voter-protocol.js';

export interface VotersControlPlaneOptions {
  /** The proposer's name (its region): the tie-breaker of its ballots. */
  self: string;
  voters: readonly VoterLink[];
  leaseMs: number;
  /** Bound on how much two clocks' rates may differ (0.01 = 1 %). */
  maxClockDrift: number;
  /** Monotonic milliseconds. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): backoff jitter. */
  random: () => number;
  /** Timeout of one call to one voter. */
  callTimeoutMs?: number;
  newChangeId?: () => string;
}

/** What the holder takes off its lease for clock drift and scheduling: 2ρL + 10 ms. */
export function leaseMargin(leaseMs: number, maxClockDrift: number): number {
  return Math.ceil(2 * maxClockDrift * leaseMs) + 10;
}

const DEFAULT_CALL_TIMEOUT_MS = 1000;
/** How long a read waits for its write-back before it looks at the voters again. */
const READ_REPAIR_TIMEOUT_MS = 250;

type Answer = { voter: string; reply?: VoterReply; error?: string };

export class VotersControlPlane implements ControlPlane {
  private highestSeen = 0;
  readonly voterCount: number;
  private readonly majority: number;

  constructor(private readonly o: VotersControlPlaneOptions) {
    this.voterCount = o.voters.length;
    this.majority = majorityOf(o.voters.length);
  }

  async read(appId: string): Promise<StateRecord | undefined> {
    const deadline = this.o.now() + 2 * this.o.leaseMs;
    for (;;) {
      const peeks = await this.ask({ op: 'peek', appId });
      const accepted = peeks.flatMap((a) => (a.reply?.ok && a.reply.op === 'peek' ? [a.reply.accepted] : []));
      if (accepted.length < this.majority) throw noQuorum('read the state', peeks, this.majority);
      const newest = newestAccepted(accepted);
      const same = accepted.filter((x) => compareBallots(x?.ballot ?? null, newest?.ballot ?? null) === 0).length;
      if (same >= this.majority) return newest?.value.record;
      // Not settled: write the newest possibly chosen value back. A lease that blocks the
      // write-back is not waited out here: the voters may settle meanwhile (a healed link),
      // so look again soon instead.
      try {
        const outcome = await this.round(appId, (current) => current, {
          requester: this.o.self,
          timeoutMs: READ_REPAIR_TIMEOUT_MS,
        });
        return outcome.value?.record;
      } catch (err) {
        if (!isDomainError(err) || (err.code === 'no_quorum' && !err.details.lease)) throw err;
        if (this.o.now() + READ_REPAIR_TIMEOUT_MS >= deadline) throw err;
        await this.o.sleep(READ_REPAIR_TIMEOUT_MS * (0.5 + this.o.random()));
      }
    }
  }

  async change(
    appId: string,
    next: (current: StateRecord | undefined) => StateRecord,
    options: ChangeOptions,
  ): Promise<ChangeOutcome> {
    const changeId = (this.o.newChangeId ?? randomUUID)();
    const outcome = await this.round(
      appId,
      (current) => {
        if (current?.changeId === changeId) return current;
        const record = next(current?.record);
        const expected = (current?.record.epoch ?? 0) + 1;
        if (current ? record.epoch !== expected : !(record.epoch >= 1)) {
          throw new DomainError('internal', `a change must make epoch ${expected}, not ${record.epoch}`);
        }
        return { record, changeId };
      },
      options,
    );
    if (!outcome.value) throw new DomainError('internal', 'a change committed no value');
    return {
      record: outcome.value.record,
      waitedMs: outcome.waitedMs,
      ...(outcome.waitedFor ? { waitedFor: outcome.waitedFor } : {}),
    };
  }

  async acquire(request: LeaseRequest): Promise<Lease> {
    const { appId, holder, epoch, logHead } = request;
    const asked = this.o.now();
    const answers = await this.ask({ op: 'grant', appId, holder, epoch, durationMs: this.o.leaseMs, logHead });
    const granted = answers.filter((a) => a.reply?.ok && a.reply.op === 'grant').length;
    if (granted < this.majority) {
      const newer = answers.some(
        (a) => a.reply && !a.reply.ok && a.reply.op === 'grant' && a.reply.epoch !== null && a.reply.epoch > epoch,
      );
      throw noQuorum(`renew the writer lease of ${holder}`, answers, this.majority, { newerEpoch: newer });
    }
    return { holder, epoch, validUntil: asked + this.o.leaseMs - leaseMargin(this.o.leaseMs, this.o.maxClockDrift) };
  }

  async release(appId: string, holder: string, epoch: number): Promise<void> {
    await this.ask({ op: 'release', appId, holder, epoch });
  }

  async lastWriterReport(appId: string, region: string): Promise<WriterReport | undefined> {
    let best: WriterReport | undefined;
    for (const a of await this.ask({ op: 'status', appId })) {
      if (!a.reply?.ok || a.reply.op !== 'status') continue;
      for (const r of a.reply.reports) {
        if (r.region !== region) continue;
        if (!best || r.epoch > best.epoch || (r.epoch === best.epoch && r.logHead > best.logHead)) best = { ...r };
      }
    }
    return best;
  }

  async health(appId: string): Promise<VoterHealth[]> {
    return (await this.ask({ op: 'status', appId })).map((a) => {
      if (a.reply?.ok && a.reply.op === 'status') {
        return { name: a.voter, reachable: true, ...(a.reply.lease ? { lease: a.reply.lease } : {}) };
      }
      return { name: a.voter, reachable: false, error: a.error ?? 'unexpected answer' };
    });
  }

  async close(): Promise<void> {}

  /** One CASPaxos change, retried with new ballots until it commits or the time is up. */
  private async round(
    appId: string,
    change: (current: RegisterValue | undefined) => RegisterValue | undefined,
    options: ChangeOptions,
  ): Promise<{ value: RegisterValue | undefined; waitedMs: number; waitedFor?: { holder: string; epoch: number } }> {
    const start = this.o.now();
    const deadline = start + options.timeoutMs;
    let waitedMs = 0;
    let waitedFor: { holder: string; epoch: number } | undefined;
    for (let attempt = 0; ; attempt++) {
      const ballot: Ballot = { n: ++this.highestSeen, by: this.o.self };
      const promises = await this.ask({ op: 'prepare', appId, ballot });
      this.noteBallots(promises);
      const granted = promises.flatMap((a) => (a.reply?.ok && a.reply.op === 'prepare' ? [a.reply.accepted] : []));
      if (granted.length < this.majority) {
        if (reachable(promises) < this.majority) throw noQuorum('change the state', promises, this.majority);
      } else {
        const current = possiblyChosen(granted, this.voterCount - granted.length, this.majority);
        const value = change(current?.value);
        if (!value) return { value, waitedMs };
        const accepts = await this.ask({ op: 'accept', appId, ballot, value });
        this.noteBallots(accepts);
        if (accepts.filter((a) => a.reply?.ok && a.reply.op === 'accept').length >= this.majority) {
          return { value, waitedMs, ...(waitedFor ? { waitedFor } : {}) };
        }
        const leases = accepts.flatMap((a) =>
          a.reply && !a.reply.ok && a.reply.op === 'accept' && a.reply.reason === 'lease' ? [a.reply.lease] : [],
        );
        if (leases.length > 0) {
          const lease = longest(leases);
          waitedFor = { holder: lease.holder, epoch: lease.epoch };
          options.onWait?.({ ...waitedFor, remainingMs: lease.remainingMs });
          const pause = Math.min(lease.remainingMs + 5, Math.max(0, deadline - this.o.now()));
          if (this.o.now() + pause >= deadline) throw leaseHeld(lease, options.timeoutMs);
          const before = this.o.now();
          await this.o.sleep(pause);
          waitedMs += this.o.now() - before;
          continue;
        }
        if (reachable(accepts) < this.majority) throw noQuorum('change the state', accepts, this.majority);
      }
      // Duelling proposers: back off a random while, longer each time.
      const backoff = Math.min(200, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + this.o.random());
      if (this.o.now() + backoff >= deadline) {
        throw new DomainError('conflict', 'the state register kept changing under this change; try again', {
          retryAfter: 1,
        });
      }
      await this.o.sleep(backoff);
    }
  }

  private noteBallots(answers: Answer[]): void {
    for (const a of answers) {
      const r = a.reply;
      if (r && !r.ok && r.reason === 'ballot') this.highestSeen = Math.max(this.highestSeen, r.promised.n);
      if (r?.ok && (r.op === 'prepare' || r.op === 'peek') && r.accepted) {
        this.highestSeen = Math.max(this.highestSeen, r.accepted.ballot.n);
      }
    }
  }

  /** Sends to every voter at once; resolves when all have answered or failed. */
  private async ask(request: VoterRequest): Promise<Answer[]> {
    const timeout = this.o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return Promise.all(
      this.o.voters.map(async (v): Promise<Answer> => {
        try {
          return { voter: v.name, reply: await v.send(request, timeout) };
        } catch (err) {
          return { voter: v.name, error: (err as Error).message };
        }
      }),
    );
  }
}

function newestAccepted(values: Array<Accepted | null>): Accepted | null {
  let best: Accepted | null = null;
  for (const v of values) if (v && compareBallots(v.ballot, best?.ballot ?? null) > 0) best = v;
  return best;
}

/**
 * The newest value that may have been chosen, given the promises of `values.length`
 * voters (which will accept no older ballot now) and `silent` voters that did not
 * answer. A value accepted by too few of them to reach a majority was never chosen
 * and never can be: it is passed over (CASPaxos would revive it; skipping it keeps
 * an abandoned change from taking effect later).
 *
 * A voter that now reports a newer ballot than b may have accepted b before: it
 * counts for b too. (Counting only the voters that still report b exactly passed
 * over a value chosen at b by voters one of which had since accepted a newer,
 * unchosen value, down to an older value or none: a read returned an empty register
 * after epoch 1 was committed. Found by test/simulation, e.g. SIM_SEED=7.)
 */
function possiblyChosen(values: Array<Accepted | null>, silent: number, majority: number): Accepted | null {
  const accepted = values.filter((v): v is Accepted => v !== null);
  const sorted = [...accepted].sort((a, b) => compareBallots(b.ballot, a.ballot));
  for (const candidate of sorted) {
    const atOrAbove = accepted.filter((v) => compareBallots(v.ballot, candidate.ballot) >= 0).length;
    if (atOrAbove + silent >= majority) return candidate;
  }
  return null;
}

function reachable(answers: Answer[]): number {
  return answers.filter((a) => a.reply !== undefined).length;
}

function longest(leases: LeaseInfo[]): LeaseInfo {
  return leases.reduce((a, b) => (b.remainingMs > a.remainingMs ? b : a));
}

function noQuorum(what: string, answers: Answer[], majority: number, details: Record<string, unknown> = {}) {
  const voters = answers.map((a) => ({
    name: a.voter,
    reachable: a.reply !== undefined,
    ...(a.error ? { error: a.error } : {}),
  }));
  const up = voters.filter((v) => v.reachable).length;
  return new DomainError(
    'no_quorum',
    `could not ${what}: ${up} of ${answers.length} voters agreed or answered, ${majority} needed`,
    { retryAfter: 1, voters, ...details },
  );
}

function leaseHeld(lease: LeaseInfo, timeoutMs: number) {
  return new DomainError(
    'no_quorum',
    `${lease.holder} still holds the writer lease of epoch ${lease.epoch} (${lease.remainingMs} ms left) and the change ` +
      `could not wait longer than ${timeoutMs} ms`,
    { retryAfter: Math.ceil(lease.remainingMs / 1000), lease },
  );
}
