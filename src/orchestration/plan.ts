/**
 * @module The operator plans (fence, failover, failback, activate) run against the
 * region APIs with a bearer token. Isomorphic: no `node:` imports, only `fetch`, so
 * the web console and the `mraa` CLI run the same steps. Each plan starts from the
 * newest state record among the regions that answer (DESIGN §3) and reports its
 * progress step by step: fence → drain (with the backlog) → switch.
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
  if (newest.state === 'fenced')
    throw new PlanError('illegal_transition', `The application is already fenced (epoch ${newest.epoch}).`);
  const record = await run.step('fence', () => putFence(env, newest, answers, opts.reason ?? 'fenced by operator'));
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
    throw new PlanError(
      'illegal_transition',
      `The application is not fenced: ${newest.activeRegion} already takes writes.`,
    );
  }
  const writer = newest.activeRegion;
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
  const run = new PlanRun(env, plan, opts);
  const reason = opts.reason ?? `${plan} by operator`;
  let { newest, answers } = await current(env);
  if (newest.activeRegion === target.name && newest.state !== 'fenced') return run.result(newest);

  if (opts.force) {
    const record = await run.step('switch', () => putSwitch(env, [target], target.name, reason, true));
    return run.result(record);
  }
  if (newest.state !== 'fenced') {
    newest = await run.step('fence', () => putFence(env, newest, answers, reason));
  } else {
    run.skipped('fence', `already fenced at epoch ${newest.epoch}`);
  }
  if (newest.activeRegion !== target.name) {
    await run.step('drain', (progress) =>
      waitForDrain(
        env,
        target,
        newest.activeRegion,
        newest.epoch,
        opts.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
        progress,
      ),
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

async function putFence(
  env: PlanEnvironment,
  newest: RegionRecord,
  answers: StateAnswer[],
  reason: string,
): Promise<RegionRecord> {
  return putToFirst(env, preferred(answers, newest.activeRegion), { state: 'fenced', reason });
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
  const up = answers.filter((a) => a.record || (a.error && a.error.code !== 'unreachable')).map((a) => a.region);
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
