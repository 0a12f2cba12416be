/**
 * @module What the writer lease (DESIGN §3a) costs while a phase runs, read from the
 * regions' `/metrics` before and after it: the renewals (the `grant` requests the
 * secondary's voter received from the writer: every renewal asks every voter), the
 * other control-plane requests, the time left on the writer's lease at the end, and
 * the writes the primary refused for want of a lease.
 */
import type { BenchDeployment } from './deployment.js';

export interface LeaseCounters {
  /** Date.now() of the reading. */
  at: number;
  /** Voter requests the secondary received from the primary, by operation. */
  voterRequests: Record<string, number>;
  /** Writes the primary refused, by reason. */
  writesRefused: Record<string, number>;
  /** Time left on the primary's writer lease, in seconds. */
  leaseRemainingSec: number | null;
  /** The primary's longest event-loop delay since the scrape before (prom-client resets it on each scrape), in seconds. */
  eventLoopLagMaxSec: number | null;
  /** The primary's WAL fdatasyncs so far that took longer than 0.1, 0.25 and 1 s. */
  slowWalSyncs: { over100ms: number; over250ms: number; over1s: number };
}

export interface LeaseCost {
  seconds: number;
  /** Lease renewals a second (grants received by one voter from the writer). */
  renewalsPerSec: number;
  renewals: number;
  /** Every control-plane request from the writer to one voter, a second, by operation. */
  voterRequestsPerSec: Record<string, number>;
  /** Writes the primary refused during the phase, by reason (no_quorum, fenced: for want of a lease). */
  writesRefused: Record<string, number>;
  leaseRemainingSecAtEnd: number | null;
  /** Stalls of the primary during the phase: what could hold its writes (not the lease). */
  primaryStalls: {
    eventLoopLagMaxMs: number | null;
    walSyncsOver100ms: number;
    walSyncsOver250ms: number;
    walSyncsOver1s: number;
  };
}

export async function readLeaseCounters(dep: BenchDeployment): Promise<LeaseCounters> {
  const [primary, secondary] = await Promise.all([
    scrape(dep.primary.url, dep.adminToken),
    scrape(dep.secondary.url, dep.adminToken),
  ]);
  const voterRequests: Record<string, number> = {};
  for (const s of secondary)
    if (s.name === 'mraa_voter_requests_total' && s.labels.from === dep.primary.name)
      voterRequests[s.labels.op!] = (voterRequests[s.labels.op!] ?? 0) + s.value;
  const writesRefused: Record<string, number> = {};
  for (const s of primary) if (s.name === 'mraa_writes_refused_total') writesRefused[s.labels.reason!] = s.value;
  const remaining = primary.find((s) => s.name === 'mraa_writer_lease_remaining_seconds');
  if (!secondary.some((s) => s.name === '# TYPE mraa_voter_requests_total'))
    throw new Error(`${dep.secondary.url}/metrics has no mraa_voter_requests_total (a region built before it?)`);
  const lag = primary.find((s) => s.name === 'nodejs_eventloop_lag_max_seconds');
  const syncs = (le: string) =>
    primary.find((s) => s.name === 'mraa_wal_fsync_duration_seconds_bucket' && s.labels.le === le)?.value ?? 0;
  const total = syncs('+Inf');
  return {
    at: Date.now(),
    voterRequests,
    writesRefused,
    leaseRemainingSec: remaining?.value ?? null,
    eventLoopLagMaxSec: lag?.value ?? null,
    slowWalSyncs: { over100ms: total - syncs('0.1'), over250ms: total - syncs('0.25'), over1s: total - syncs('1') },
  };
}

export function leaseCost(before: LeaseCounters, after: LeaseCounters): LeaseCost {
  const seconds = (after.at - before.at) / 1000;
  const delta = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.keys(b)
        .map((k) => [k, b[k]! - (a[k] ?? 0)] as const)
        .filter(([, v]) => v !== 0),
    );
  const requests = delta(before.voterRequests, after.voterRequests);
  const renewals = requests.grant ?? 0;
  return {
    seconds,
    renewalsPerSec: renewals / seconds,
    renewals,
    voterRequestsPerSec: Object.fromEntries(Object.entries(requests).map(([k, v]) => [k, v / seconds])),
    writesRefused: delta(before.writesRefused, after.writesRefused),
    leaseRemainingSecAtEnd: after.leaseRemainingSec,
    primaryStalls: {
      eventLoopLagMaxMs: after.eventLoopLagMaxSec === null ? null : after.eventLoopLagMaxSec * 1000,
      walSyncsOver100ms: after.slowWalSyncs.over100ms - before.slowWalSyncs.over100ms,
      walSyncsOver250ms: after.slowWalSyncs.over250ms - before.slowWalSyncs.over250ms,
      walSyncsOver1s: after.slowWalSyncs.over1s - before.slowWalSyncs.over1s,
    },
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition of a region's /metrics, one sample a line. */
async function scrape(url: string, token: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
  const out: Sample[] = [];
  for (const line of (await res.text()).split('\n')) {
    const declared = /^# TYPE (\S+)/.exec(line);
    if (declared) out.push({ name: `# TYPE ${declared[1]}`, labels: {}, value: 0 });
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
