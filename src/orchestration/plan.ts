/**
 * @module The operator plans (fence, failover, failback, activate) run against the
 * region APIs with a bearer token. Isomorphic: no `node:` imports, only `fetch`, so
 * the web console and the `mraa` CLI run the same steps. Each plan starts from the
 * newest state record among the regions that answer (DESIGN §3), checks before it
 * changes anything that the regions it needs answer and reach a majority of voters
 * (a plan that cannot finish does not start: no fence left behind by a failover whose
 * target is down), and reports its progress step by step: fence → drain (with the
 * backlog) → switch. A plan with nothing to do (a second fence, a failover to the
 * writer) succeeds with `nothingToDo` and an empty timeline.
 */
import { type AppStateName, newestRecord } from '../core/app-state.js';
import { CALL_TIMEOUT_MS, call, sleep } from './plan-call.js';
import { PlanRun } from './plan-run.js';
import {
  type Backlog,
  type FailoverOptions,
  type PlanEnvironment,
  PlanError,
  type PlanName,
  type PlanOptions,
  type PlanRegion,
  type PlanResult,
  type PlanStep,
  type RegionRecord,
} from './plan-types.js';

export * from './plan-types.js';

export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;
const DRAIN_WAIT_MS = 500;
const STATE_TIMEOUT_MS = 3000;
/** A state change may wait for a quorum and for an old writer's lease (two lease periods at most). */
const CHANGE_TIMEOUT_MS = 30_000;

export interface StateAnswer {
  region: PlanRegion;
  record?: RegionRecord;
  error?: PlanError;
}

/** The state record of every region (in parallel), and the newest of those that answered. */
export async function newestState(
  env: PlanEnvironment,
): Promise<{ newest: RegionRecord | undefined; answers: StateAnswer[] }> {
  const answers = await Promise.all(
    env.regions.map(async (region): Promise<StateAnswer> => {
      try {
        return {
          region,
          record: await call<RegionRecord>(env, region, 'GET', statePath(env), undefined, STATE_TIMEOUT_MS),
        };
      } catch (err) {
        return { region, error: err as PlanError };
      }
    }),
  );
  const records = answers.flatMap((a) => (a.record ? [a.record] : []));
  return { newest: newestRecord(records), answers };
}

/** Stops writes everywhere: the writer (or, if it does not answer, another region) records the fence. */
export async function fence(env: PlanEnvironment, opts: PlanOptions = {}): Promise<PlanResult> {
  const run = new PlanRun(env, 'fence', opts);
  const { newest, answers } = await current(env);
  if (newest.state === 'fenced') {
    return run.nothing(newest, `already fenced at epoch ${newest.epoch} (writer was ${newest.activeRegion})`);
  }
  const to = await readyRegions(env, 'fence', answers, preferred(answers, newest.activeRegion), newest);
  const record = await run.step('fence', () =>
    putToFirst(env, to, { state: 'fenced', reason: opts.reason ?? 'fenced by operator' }),
  );
  return run.result(record);
}

/** Moves writes to `to` (default: the only secondary): fence if needed, wait for the drain, switch. */
export async function failover(env: PlanEnvironment, opts: FailoverOptions = {}): Promise<PlanResult> {
  const primary = primaryOf(env);
  const secondaries = env.regions.filter((r) => r.name !== primary.name);
  if (opts.to === undefined && secondaries.length !== 1) {
    throw new PlanError(
      'invalid_request',
      `Name the region to fail over to: one of ${secondaries.map((r) => r.name).join(', ')}.`,
    );
  }
  return moveWrites(env, 'failover', regionNamed(env, opts.to ?? secondaries[0]!.name), opts);
}

/** Moves writes back to the primary, the same way. */
export async function failback(env: PlanEnvironment, opts: PlanOptions = {}): Promise<PlanResult> {
  return moveWrites(env, 'failback', primaryOf(env), opts);
}

/** Lifts the fence: the fenced writer takes writes again, nothing moves. */
export async function activate(env: PlanEnvironment, opts: PlanOptions = {}): Promise<PlanResult> {
  const run = new PlanRun(env, 'activate', opts);
  const { newest, answers } = await current(env);
  if (newest.state !== 'fenced') {
    return run.nothing(newest, `not fenced: ${newest.activeRegion} already takes writes (epoch ${newest.epoch})`);
  }
  const writer = newest.activeRegion;
  // Activating a writer that does not answer gives writes to nobody.
  await checkRegion(
    env,
    'activate',
    answers,
    writer,
    'writer',
    newest,
    'To move writes to a region that answers, fail over to it.',
  );
  const record = await run.step('switch', () =>
    putSwitch(env, preferred(answers, writer), writer, opts.reason ?? 'activated by operator'),
  );
  return run.result(record);
}

async function moveWrites(
  env: PlanEnvironment,
  plan: PlanName,
  target: PlanRegion,
  opts: FailoverOptions,
): Promise<PlanResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new PlanError(
      'invalid_request',
      `The drain timeout must be a positive number of milliseconds (got ${timeoutMs}).`,
    );
  }
  const run = new PlanRun(env, plan, opts);
  const reason = opts.reason ?? `${plan} by operator`;
  let { newest, answers } = await current(env);
  if (newest.activeRegion === target.name && newest.state !== 'fenced') {
    return run.nothing(newest, `${target.name} already takes writes (${newest.state}, epoch ${newest.epoch})`);
  }

  // Before anything changes: the target must answer and reach a majority of voters, or
  // the plan would fence the writer and then fail to switch, leaving writes paused.
  await checkRegion(env, plan, answers, target.name, 'target', newest);
  if (opts.force) {
    const record = await run.step('switch', () => putSwitch(env, [target], target.name, reason, true));
    return run.result(record);
  }
  if (newest.state !== 'fenced') {
    // The fence goes to the writer, whose every write the target must then receive.
    await checkRegion(
      env,
      plan,
      answers,
      newest.activeRegion,
      'writer',
      newest,
      `A graceful ${plan} waits for every write of the writer. If it is down, a forced (ungraceful) failover does not need it.`,
    );
    newest = await run.step('fence', () =>
      putToFirst(env, [regionNamed(env, newest.activeRegion)], { state: 'fenced', reason }),
    );
  } else {
    run.skipped('fence', `already fenced at epoch ${newest.epoch}`);
  }
  if (newest.activeRegion !== target.name) {
    await run.step('drain', (progress) =>
      waitForDrain(env, target, newest.activeRegion, newest.epoch, timeoutMs, progress),
    );
  }
  const record = await run.step('switch', () => putSwitch(env, [target], target.name, reason));
  return run.result(record);
}

async function waitForDrain(
  env: PlanEnvironment,
  target: PlanRegion,
  from: string,
  epoch: number,
  timeoutMs: number,
  progress: (update: Partial<PlanStep>) => void,
): Promise<string> {
  const now = env.now ?? Date.now;
  const deadline = now() + timeoutMs;
  let last: PlanError | undefined;
  for (;;) {
    const waitMs = Math.max(0, Math.min(DRAIN_WAIT_MS, deadline - now()));
    try {
      const path = `/replication/drain?from=${encodeURIComponent(from)}&epoch=${epoch}&waitMs=${waitMs}`;
      const answer = await call<{ drained: boolean; backlog: Backlog }>(
        env,
        target,
        'GET',
        path,
        undefined,
        waitMs + CALL_TIMEOUT_MS,
      );
      last = undefined;
      progress({ backlog: answer.backlog, detail: describeBacklog(answer.backlog) });
      if (answer.drained) return `${target.name} has applied every write of ${from} up to the fence (epoch ${epoch})`;
    } catch (err) {
      last = err as PlanError;
      // A refusal (403, 404...) will not change by waiting; no answer or a 5xx may.
      if (last.status >= 400 && last.status < 500) throw last;
      progress({ detail: last.message });
      await (env.sleep ?? sleep)(Math.min(DRAIN_WAIT_MS, Math.max(0, deadline - now())));
    }
    if (now() >= deadline) {
      throw new PlanError(
        'drain_timeout',
        `${target.name} had not received every write of ${from} after ${Math.round(timeoutMs / 1000)} s` +
          `${last ? ` (${last.message})` : ''}. The application is left fenced: writes stay paused. ` +
          `Activate to lift the fence and back out, or run the plan again to keep waiting.`,
        0,
        { target: target.name, from, epoch },
      );
    }
  }
}

function describeBacklog(b: Backlog): string {
  if (b.entries === 0) return 'nothing left to apply';
  const parts = [
    b.entries !== null ? `${b.entries} entries` : null,
    b.bytes !== null ? `${b.bytes} bytes` : null,
  ].filter(Boolean);
  return parts.length ? `${parts.join(', ')} left to apply` : 'waiting for the fence entry';
}

async function putSwitch(
  env: PlanEnvironment,
  to: PlanRegion[],
  writer: string,
  reason: string,
  force = false,
): Promise<RegionRecord> {
  const state: AppStateName = writer === primaryOf(env).name ? 'active' : 'failover';
  return putToFirst(env, to, { state, activeRegion: writer, reason, ...(force ? { force: true } : {}) });
}

/** Who a plan needs, in its error codes (`target_unreachable`) and in words. */
const ROLE = {
  target: 'the target',
  writer: 'the writer',
  recorder: 'the region to record it',
} as const;

/**
 * Whether `name` can take a change now: it answered the state read, and reaches a
 * majority of voters. A region's `quorum` is from its last read of the voters (about
 * once a second); when it says no, the region's `/status` probes the voters afresh and
 * names the ones it does not reach. Throws a PlanError that says why the plan does not
 * start, and that nothing was changed.
 */
async function checkRegion(
  env: PlanEnvironment,
  plan: PlanName,
  answers: StateAnswer[],
  name: string,
  who: keyof typeof ROLE,
  newest: RegionRecord,
  /** What to do instead when `name` does not answer. */
  advice = '',
): Promise<void> {
  const answer = answers.find((a) => a.region.name === name);
  const unchanged = nothingChanged(newest);
  const role = ROLE[who];
  if (!answer?.record) {
    const err = answer?.error;
    const down = !err || err.code === 'unreachable';
    const why = err?.message ?? `${name} did not answer`;
    throw new PlanError(
      down ? `${who}_unreachable` : `${who}_not_ready`,
      `${plan} not started: ${down ? why : `${name} cannot take part (${why})`}, and it is ${role}. ${unchanged}` +
        (down && advice ? ` ${advice}` : ''),
      0,
      { region: name, role, changed: false },
    );
  }
  const quorum = await reachesMajority(env, answer);
  if (!quorum.ok) {
    throw new PlanError('no_quorum', `${plan} not started: ${quorum.detail}, and it is ${role}. ${unchanged}`, 0, {
      region: name,
      role,
      changed: false,
      ...quorum.voters,
    });
  }
}

/** The regions of `candidates` that can take a change, in order; throws (as checkRegion) when none can. */
async function readyRegions(
  env: PlanEnvironment,
  plan: PlanName,
  answers: StateAnswer[],
  candidates: PlanRegion[],
  newest: RegionRecord,
): Promise<PlanRegion[]> {
  const ready: PlanRegion[] = [];
  let first: unknown;
  for (const region of candidates) {
    try {
      await checkRegion(env, plan, answers, region.name, 'recorder', newest);
      ready.push(region);
    } catch (err) {
      first ??= err;
    }
  }
  if (ready.length === 0) throw first ?? new PlanError('unreachable', `${plan} not started: no region answered.`);
  return ready;
}

interface QuorumView {
  ok: boolean;
  detail: string;
  voters?: { reachable: string[]; unreachable: string[]; needed: number };
}

async function reachesMajority(env: PlanEnvironment, answer: StateAnswer): Promise<QuorumView> {
  const name = answer.region.name;
  // Regions that do not say (older versions) are taken at their word: the change itself still needs a majority.
  if (answer.record?.quorum !== false) return { ok: true, detail: '' };
  let voters: Array<{ name: string; reachable: boolean; error?: string }> = [];
  try {
    const status = await call<{ controlPlane?: { voters?: typeof voters } }>(
      env,
      answer.region,
      'GET',
      '/status',
      undefined,
      STATE_TIMEOUT_MS,
    );
    voters = status.controlPlane?.voters ?? [];
  } catch {
    /* described below without the names */
  }
  if (voters.length === 0) return { ok: false, detail: `${name} cannot reach a majority of voters` };
  const reachable = voters.filter((v) => v.reachable && !v.error).map((v) => v.name);
  const unreachable = voters.filter((v) => !(v.reachable && !v.error)).map((v) => v.name);
  const needed = Math.floor(voters.length / 2) + 1;
  if (reachable.length >= needed) return { ok: true, detail: '' };
  return {
    ok: false,
    detail:
      `${name} reaches ${reachable.length} of ${voters.length} voters (not ${unreachable.join(', ')}); ` +
      `${needed} are needed to change the state`,
    voters: { reachable, unreachable, needed },
  };
}

function nothingChanged(newest: RegionRecord): string {
  return newest.state === 'fenced'
    ? `Nothing was changed: the application stays fenced (writer ${newest.activeRegion}, epoch ${newest.epoch}).`
    : `Nothing was changed: ${newest.activeRegion} still takes writes (epoch ${newest.epoch}).`;
}

/** Sends a transition to the first region that answers; a refusal (4xx) is final. */
async function putToFirst(
  env: PlanEnvironment,
  regions: PlanRegion[],
  body: Record<string, unknown>,
): Promise<RegionRecord> {
  let last: PlanError | undefined;
  for (const region of regions) {
    try {
      return await call<RegionRecord>(env, region, 'PUT', statePath(env), body, CHANGE_TIMEOUT_MS);
    } catch (err) {
      last = err as PlanError;
      if (last.code !== 'unreachable') throw last;
    }
  }
  throw last ?? new PlanError('unreachable', 'No region answered.');
}

/** The regions that answered, the preferred one first. */
function preferred(answers: StateAnswer[], name: string): PlanRegion[] {
  const up = answers.filter((a) => a.record).map((a) => a.region);
  return [...up.filter((r) => r.name === name), ...up.filter((r) => r.name !== name)];
}

async function current(env: PlanEnvironment): Promise<{ newest: RegionRecord; answers: StateAnswer[] }> {
  const { newest, answers } = await newestState(env);
  if (!newest) {
    const why = answers.map((a) => `${a.region.name}: ${a.error?.message ?? 'no answer'}`).join('; ');
    throw new PlanError('unreachable', `No region answered with the state of ${env.appId} (${why}).`);
  }
  return { newest, answers };
}

function statePath(env: PlanEnvironment): string {
  return `/state/${encodeURIComponent(env.appId)}`;
}

function primaryOf(env: PlanEnvironment): PlanRegion {
  const primary = env.regions.find((r) => r.role === 'primary');
  if (!primary) throw new PlanError('invalid_request', 'The configuration names no primary region.');
  return primary;
}

function regionNamed(env: PlanEnvironment, name: string): PlanRegion {
  const region = env.regions.find((r) => r.name === name);
  if (!region)
    throw new PlanError(
      'invalid_request',
      `No region "${name}": regions are ${env.regions.map((r) => r.name).join(', ')}.`,
    );
  return region;
}
