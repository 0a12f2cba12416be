/**
 * @module Comment writes (`POST /comments/{photoId}`) from the load generator: an open
 * loop at a fixed rate that remembers each acknowledgement (for replication lag), and
 * a closed loop with many writers in flight (for throughput at saturation).
 */
import { nowNs, sleep } from './clock.js';
import { postJson } from './http-client.js';

export interface Target {
  url: string;
  token: string;
  photoId: string;
}

export interface AckedComment {
  commentId: string;
  /** When it was due by the schedule, sent, and acknowledged (CLOCK_MONOTONIC ns). */
  dueNs: bigint;
  sentNs: bigint;
  ackNs: bigint;
  warmup: boolean;
}

export interface OpenLoopResult {
  acked: AckedComment[];
  attempted: number;
  errors: Record<string, number>;
  startNs: bigint;
  endNs: bigint;
}

/** `rate` writes a second for `warmupMs + durationMs`, whatever the server's latency (an open loop). */
export async function openLoop(
  t: Target,
  opts: { rate: number; durationMs: number; warmupMs: number; tag: string },
): Promise<OpenLoopResult> {
  const periodNs = BigInt(Math.round(1e9 / opts.rate));
  const total = Math.round((opts.rate * (opts.durationMs + opts.warmupMs)) / 1000);
  const warmupCount = Math.round((opts.rate * opts.warmupMs) / 1000);
  const acked: AckedComment[] = [];
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const startNs = nowNs();
  const write = async (i: number, dueNs: bigint) => {
    try {
      const r = await postJson(t.url, `/comments/${t.photoId}`, { message: `${opts.tag}-${i}` }, t.token);
      if (r.status === 201) {
        acked.push({
          commentId: (JSON.parse(r.body) as { commentId: string }).commentId,
          dueNs,
          sentNs: r.sentNs,
          ackNs: r.ackNs,
          warmup: i < warmupCount,
        });
      } else errors[`http_${r.status}`] = (errors[`http_${r.status}`] ?? 0) + 1;
    } catch (err) {
      const code = (err as Error).message === 'timeout' ? 'timeout' : 'network';
      errors[code] = (errors[code] ?? 0) + 1;
    }
  };
  for (let i = 0; i < total; i++) {
    const dueNs = startNs + BigInt(i) * periodNs;
    const waitMs = Number(dueNs - nowNs()) / 1e6;
    if (waitMs >= 1) await sleep(Math.floor(waitMs));
    const p = write(i, dueNs).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { acked, attempted: total, errors, startNs, endNs: nowNs() };
}

export interface ClosedLoopResult {
  /** Writes acknowledged inside the measuring window. */
  completed: number;
  windowMs: number;
  writesPerSec: number;
  latencyMs: number[];
  errors: Record<string, number>;
}

/** `concurrency` writers, each sending its next write as soon as the last is answered. */
export async function closedLoop(
  t: Target,
  opts: { concurrency: number; durationMs: number; warmupMs: number; tag: string },
): Promise<ClosedLoopResult> {
  const t0 = nowNs();
  const from = t0 + BigInt(opts.warmupMs) * 1_000_000n;
  const to = from + BigInt(opts.durationMs) * 1_000_000n;
  let completed = 0;
  let n = 0;
  const latencyMs: number[] = [];
  const errors: Record<string, number> = {};
  const writer = async () => {
    while (nowNs() < to) {
      try {
        const r = await postJson(t.url, `/comments/${t.photoId}`, { message: `${opts.tag}-${n++}` }, t.token);
        if (r.status !== 201) errors[`http_${r.status}`] = (errors[`http_${r.status}`] ?? 0) + 1;
        else if (r.ackNs > from && r.ackNs <= to) {
          completed++;
          if (r.sentNs >= from) latencyMs.push(Number(r.ackNs - r.sentNs) / 1e6);
        }
      } catch (err) {
        const code = (err as Error).message === 'timeout' ? 'timeout' : 'network';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, writer));
  return {
    completed,
    windowMs: opts.durationMs,
    writesPerSec: completed / (opts.durationMs / 1000),
    latencyMs,
    errors,
  };
}
