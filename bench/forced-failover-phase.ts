/**
 * @module Forced failover with the writer partitioned but alive (DESIGN §3a, §8): in a
 * deployment of its own with fault proxies in front of each region's peer URL and of
 * the witness, the primary is cut from every other voter, both ways, while clients
 * still reach it, and a forced failover to the secondary is decided at once (the
 * worst case: the voters granted the primary's lease at most one renewal ago).
 * Measured per trial: decision → first write the new writer accepts (through the
 * routing client), the time the target reports it waited for the old lease, and, from
 * a stale client that keeps writing straight to the old writer, when it last
 * acknowledged a write and when it first refused one, against the new writer's first
 * acknowledged write. Then the network heals, a graceful failback puts the primary
 * back and every region catches up before the next trial.
 */
import type { StateRecord } from '../src/core/app-state.js';
import { failback, failover, type PlanEnvironment, type RegionRecord } from '../src/orchestration/plan.js';
import { nowMs, sleep } from './clock.js';
import { type BenchContext, ourProcesses } from './context.js';
import { startDeployment } from './deployment.js';
import type { ForcedProbeArgs, WriteMark } from './forced-failover.js';
import { CpuMeter } from './proc-stats.js';
import { uploadSmallPhoto, waitCaughtUp } from './region-api.js';
import { type Distribution, distribution, median } from './stats.js';

/** Pause between two writes of one probe client (after its answer). */
const PROBE_PAUSE_MS = 2;
/** How long the stale client keeps writing to the old writer after the new one accepted a write. */
const TAIL_MS = 1000;
const TIMEOUT_MS = 30_000;

export interface ForcedTrial {
  trial: number;
  from: string;
  to: string;
  /** Decision → first write acknowledged by `to` (its answer reaching the client). */
  firstWriteMs: number;
  /** Decision → the forced plan's answer. */
  planMs: number;
  /** What the target reported it waited for the old writer's lease (`waitedForLease`); null if it did not wait. */
  waitedForLease: { holder: string; epoch: number; waitedMs: number } | null;
  /** The forced switch's loss report (what the old writer may have had that `to` had not applied). */
  possibleLoss: RegionRecord['possibleLoss'] | null;
  /** The cut, in ms from the decision (negative: just before it). */
  cutAtMs: number;
  /** The old writer: its last acknowledged write (answer received) and its first refusal, ms after the cut. */
  oldLastAckAfterCutMs: number | null;
  oldFirstRefusalAfterCutMs: number | null;
  oldFirstRefusal: { status: number; code: string | null } | null;
  /**
   * Writes the old writer acknowledged after the cut, before its lease ran out: they
   * reach the new writer only after the heal (the loss report's "unreported window").
   */
  oldAcksAfterCut: number;
  /** Every answer of the old writer after its first refusal, by "status code". */
  oldAnswersAfterRefusal: Record<string, number>;
  /** Writes the old writer acknowledged that were sent after it had refused one (must be 0). */
  oldAcksAfterRefusal: number;
  /** On CLOCK_MONOTONIC, ms from the decision: the old writer's last ack received, the new writer's first ack sent and received. */
  oldLastAckAtMs: number | null;
  newFirstAckSentAtMs: number;
  newFirstAckAtMs: number;
  /**
   * newFirstAckSentAtMs - oldLastAckAtMs: the old writer's last acknowledged write had
   * committed before its answer arrived, and the new writer's first could commit only
   * after it was sent, so a positive gap shows the two admission periods did not overlap.
   */
  gapMs: number | null;
  overlap: boolean;
  /** Writes answered by each client over the trial. */
  writes: { stale: number; routed: number };
  /** Heal → old writer follows the new record; the graceful failback; heal → every region caught up. */
  followedAfterHealMs: number;
  failbackMs: number;
  caughtUpAfterHealMs: number;
}

export interface ForcedFailoverFigures {
  leaseMs: number;
  /** DESIGN §8: lease period + 1 s. */
  targetMs: number;
  samples: number;
  medianMs: number;
  maxMs: number;
  firstWrite: Distribution;
  waitedForLeaseMs: Distribution;
  oldRefusedAfterCut: Distribution;
  /** Smallest gap between the old writer's last ack and the new writer's first write over the trials. */
  minGapMs: number;
  overlaps: number;
  oldAcksAfterRefusal: number;
  /** Trials whose old writer refused with anything but 503 no_quorum. */
  otherRefusals: number;
  trials: ForcedTrial[];
  cpu: Record<string, number>;
}

export async function measureForcedFailover(ctx: BenchContext): Promise<ForcedFailoverFigures> {
  const trials = ctx.options.samples.forcedFailover.trials;
  const dep = await startDeployment({
    label: 'forced-failover',
    env: ctx.deploymentEnv,
    maxUploadBytes: ctx.deployment.config.settings.maxUploadBytes,
    proxies: true,
  });
  ctx.log(`  deployment with fault proxies: ${dep.primary.url}, ${dep.secondary.url}, in ${dep.dir}`);
  try {
    const leaseMs = dep.config.controlPlane.leaseMs;
    const regions = dep.config.regions.map((r) => ({ name: r.name, url: r.url, role: r.role }));
    const env: PlanEnvironment = { appId: dep.config.appId, regions, token: dep.adminToken };
    const from = dep.primary.name;
    const to = dep.secondary.name;
    const photoId = await uploadSmallPhoto(dep.primary.url, dep.adminToken);
    await waitCaughtUp(dep.primary.url, dep.adminToken);
    const meter = new CpuMeter(await ourProcesses(ctx, [dep]));
    const out: ForcedTrial[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const probe: ForcedProbeArgs = {
        appId: env.appId,
        regions,
        token: dep.adminToken,
        photoId,
        oldWriter: from,
        pauseMs: PROBE_PAUSE_MS,
      };
      await ctx.loadGenerator.call('forcedProbeStart', probe);
      const since = nowMs();
      await sleep(500);
      const cutAt = nowMs();
      dep.isolate(from);
      const t0 = nowMs();
      const [forced, marks] = await Promise.all([
        failover(env, { to, force: true, reason: 'bench: forced failover, writer partitioned' }).then((r) => ({
          record: r.record,
          at: nowMs(),
        })),
        ctx.loadGenerator.call<WriteMark[]>('forcedProbeFinish', {
          t0,
          since,
          to,
          tailMs: TAIL_MS,
          timeoutMs: TIMEOUT_MS,
        }),
      ]);
      const healAt = nowMs();
      dep.heal();
      await waitUntil(
        `${from} to follow the new record after the heal`,
        async () => (await stateOf(dep.primary.url, env.appId))?.activeRegion === to,
      );
      const followedAt = nowMs();
      const back = await failback(env, { reason: 'bench: failback after a forced failover' });
      const failbackMs = back.totalMs;
      await waitCaughtUp(dep.primary.url, dep.adminToken);
      await waitCaughtUp(dep.secondary.url, dep.adminToken);
      const t = summarise(trial, from, to, marks, { cutAt, t0 }, forced.record, forced.at);
      t.followedAfterHealMs = followedAt - healAt;
      t.failbackMs = failbackMs;
      t.caughtUpAfterHealMs = nowMs() - healAt;
      out.push(t);
      ctx.log(
        `  trial ${trial + 1}: ${from} → ${to} forced: first write accepted after ${t.firstWriteMs.toFixed(0)} ms ` +
          `(plan ${t.planMs.toFixed(0)} ms, waited ${t.waitedForLease ? `${t.waitedForLease.waitedMs.toFixed(0)} ms for ${t.waitedForLease.holder}'s lease` : 'for no lease'}); ` +
          `${from} acked ${t.oldAcksAfterCut} writes after the cut, the last ${fmtMs(t.oldLastAckAfterCutMs)} after it, and first refused (${t.oldFirstRefusal ? `${t.oldFirstRefusal.status} ${t.oldFirstRefusal.code}` : '-'}) ` +
          `${fmtMs(t.oldFirstRefusalAfterCutMs)} after the cut; gap to ${to}'s first write ${fmtMs(t.gapMs)}` +
          `${t.overlap ? ' — OVERLAP' : ''}${t.oldAcksAfterRefusal ? ` — ${t.oldAcksAfterRefusal} acks after a refusal` : ''}; ` +
          `failback ${failbackMs.toFixed(0)} ms, caught up ${t.caughtUpAfterHealMs.toFixed(0)} ms after the heal`,
      );
    }
    const firstWrites = out.map((t) => t.firstWriteMs);
    const finite = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null);
    return {
      leaseMs,
      targetMs: leaseMs + 1000,
      samples: out.length,
      medianMs: median(firstWrites),
      maxMs: Math.max(...firstWrites),
      firstWrite: distribution(firstWrites),
      waitedForLeaseMs: distribution(out.map((t) => t.waitedForLease?.waitedMs ?? 0)),
      oldRefusedAfterCut: distribution(finite(out.map((t) => t.oldFirstRefusalAfterCutMs))),
      minGapMs: Math.min(...finite(out.map((t) => t.gapMs))),
      overlaps: out.filter((t) => t.overlap).length,
      oldAcksAfterRefusal: out.reduce((n, t) => n + t.oldAcksAfterRefusal, 0),
      otherRefusals: out.filter((t) => t.oldFirstRefusal?.code !== 'no_quorum').length,
      trials: out,
      cpu: meter.stop(),
    };
  } finally {
    await dep.close(ctx.options.keep);
  }
}

function summarise(
  trial: number,
  from: string,
  to: string,
  marks: WriteMark[],
  at: { cutAt: number; t0: number },
  record: RegionRecord,
  planEnd: number,
): ForcedTrial {
  const { cutAt, t0 } = at;
  const byArrival = [...marks].sort((a, b) => a.at - b.at);
  const old = byArrival.filter((m) => m.region === from && m.at >= cutAt);
  const firstRefusal = old.find((m) => m.status !== 201);
  const lastAck = [...old].reverse().find((m) => m.status === 201) ?? lastBefore(byArrival, from, cutAt);
  const newFirst = byArrival.find((m) => m.region === to && m.status === 201 && m.at >= t0);
  if (!newFirst) throw new Error(`no write acknowledged by ${to} after the decision`);
  const after = firstRefusal ? old.filter((m) => m.sentAt > firstRefusal.at) : [];
  const answers: Record<string, number> = {};
  for (const m of after) {
    const key = `${m.status} ${m.code ?? ''}`.trim();
    answers[key] = (answers[key] ?? 0) + 1;
  }
  const gap = lastAck ? newFirst.sentAt - lastAck.at : null;
  return {
    trial,
    from,
    to,
    firstWriteMs: newFirst.at - t0,
    planMs: planEnd - t0,
    waitedForLease: record.waitedForLease ?? null,
    possibleLoss: record.possibleLoss ?? null,
    cutAtMs: cutAt - t0,
    oldLastAckAfterCutMs: lastAck ? lastAck.at - cutAt : null,
    oldFirstRefusalAfterCutMs: firstRefusal ? firstRefusal.at - cutAt : null,
    oldFirstRefusal: firstRefusal ? { status: firstRefusal.status, code: firstRefusal.code ?? null } : null,
    oldAcksAfterCut: old.filter((m) => m.status === 201).length,
    oldAnswersAfterRefusal: answers,
    oldAcksAfterRefusal: after.filter((m) => m.status === 201).length,
    oldLastAckAtMs: lastAck ? lastAck.at - t0 : null,
    newFirstAckSentAtMs: newFirst.sentAt - t0,
    newFirstAckAtMs: newFirst.at - t0,
    gapMs: gap,
    overlap: gap !== null && gap <= 0,
    writes: {
      stale: marks.filter((m) => m.client === 'stale').length,
      routed: marks.filter((m) => m.client === 'routed').length,
    },
    followedAfterHealMs: 0,
    failbackMs: 0,
    caughtUpAfterHealMs: 0,
  };
}

/** The old writer's last acknowledged write before the cut (when it acknowledged none after it). */
function lastBefore(marks: WriteMark[], region: string, cutAt: number): WriteMark | undefined {
  return [...marks].reverse().find((m) => m.region === region && m.status === 201 && m.at < cutAt);
}

async function stateOf(url: string, appId: string): Promise<StateRecord | undefined> {
  const res = await fetch(`${url}/state/${appId}`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  return res?.ok ? ((await res.json()) as StateRecord) : undefined;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!(await check())) {
    if (nowMs() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const fmtMs = (ms: number | null) => (ms === null ? 'n/a' : `${ms.toFixed(0)} ms`);
