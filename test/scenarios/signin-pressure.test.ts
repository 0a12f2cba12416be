/**
 * Writes do not wait behind password hashing (issue 13): comment POST latency on a real
 * region process, alone and while wrong-password sign-ins are hammered from many
 * addresses (each within the per-address limit). Prints the figures; before password
 * hashing had threads of its own, scrypt shared libuv's four threads with the fdatasync
 * that acknowledges a write, and a write waited seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { wrongSignIn } from '../helpers/signin.js';

const BASELINE_MS = 4000;
const PRESSURE_MS = 8000;
/** Sign-in clients, each from its own loopback address, each with its own username. */
const ATTACKERS = 16;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function summary(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
}

describe('write latency while sign-ins are hammered', { timeout: 180_000 }, () => {
  let d: LocalDeployment;
  let url: string;
  let photoId: string;

  beforeAll(async () => {
    d = await startDeployment();
    url = d.url['us-east-1']!;
    const res = await fetch(`${url}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/png' },
      body: await image('png', 20, 20),
    });
    photoId = ((await res.json()) as { photoId: string }).photoId;
  });
  afterAll(async () => d?.close());

  async function writesFor(ms: number): Promise<number[]> {
    const latencies: number[] = [];
    for (const until = Date.now() + ms; Date.now() < until; ) {
      const start = performance.now();
      const res = await fetch(`${url}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `m-${latencies.length}` }),
      });
      await res.text();
      expect(res.status).toBe(201);
      latencies.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 10));
    }
    return latencies;
  }

  it('keeps comment POST latency low', async () => {
    const baseline = summary(await writesFor(BASELINE_MS));
    let stop = false;
    const statuses = new Map<number, number>();
    const attackers = Array.from({ length: ATTACKERS }, async (_, i) => {
      for (let n = 0; !stop; n++) {
        const status = await wrongSignIn(url, `127.0.3.${i + 1}`, `nobody-${i}-${n % 5}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 429 || status === 0) await new Promise((r) => setTimeout(r, 200));
      }
    });
    const pressure = summary(await writesFor(PRESSURE_MS));
    stop = true;
    await Promise.all(attackers);
    const f = (x: number) => `${x.toFixed(1)} ms`;
    console.log(
      `comment POST latency, alone: p50 ${f(baseline.p50)}, p99 ${f(baseline.p99)}, max ${f(baseline.max)} (${baseline.n} writes)\n` +
        `while ${ATTACKERS} clients sign in with wrong passwords: p50 ${f(pressure.p50)}, p99 ${f(pressure.p99)}, max ${f(pressure.max)} (${pressure.n} writes)\n` +
        `sign-in answers: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`,
    );
    expect(statuses.get(401) ?? 0).toBeGreaterThan(20);
    expect(pressure.p99).toBeLessThan(1000);
  });
});
