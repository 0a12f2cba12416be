/**
 * @module Write latency while sign-ins are hammered (issue 13): comment POSTs to the
 * writer, one at a time, alone and then while wrong-password sign-ins arrive from many
 * loopback addresses (each within the per-address limit). Password hashing has a pool of
 * its own and the WAL fdatasync a thread of its own, so writes must not wait behind them.
 */
import { wrongSignIn } from '../test/helpers/signin.js';
import type { BenchContext } from './context.js';
import { uploadSmallPhoto } from './region-api.js';
import { type Distribution, distribution } from './stats.js';

export interface SigninPressureFigures {
  /** Comment POST latency with no sign-in traffic. */
  alone: Distribution;
  /** The same while `attackers` clients sign in with wrong passwords. */
  underSignins: Distribution;
  attackers: number;
  /** Sign-in answers by status (401 expected; 429 when a limit was reached). */
  signins: Record<string, number>;
}

/** Sign-in clients, each from its own loopback address and with its own usernames. */
const ATTACKERS = 16;

export async function measureSigninPressure(ctx: BenchContext): Promise<SigninPressureFigures> {
  const dep = ctx.deployment;
  const url = dep.primary.url;
  const photoId = await uploadSmallPhoto(url, dep.adminToken);
  const phaseMs = ctx.options.quick ? 4000 : 10_000;
  const writesFor = async (ms: number) => {
    const latencies: number[] = [];
    for (const until = Date.now() + ms; Date.now() < until; ) {
      const start = performance.now();
      const res = await fetch(`${url}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `signin-pressure-${latencies.length}` }),
      });
      await res.text();
      if (res.status === 201) latencies.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 5));
    }
    return latencies;
  };
  const alone = distribution(await writesFor(phaseMs));
  let stop = false;
  const signins = new Map<number, number>();
  const attackers = Array.from({ length: ATTACKERS }, async (_, i) => {
    for (let n = 0; !stop; n++) {
      const status = await wrongSignIn(url, `127.0.4.${i + 1}`, `nobody-${i}-${n % 5}`);
      signins.set(status, (signins.get(status) ?? 0) + 1);
      if (status === 429 || status === 0) await new Promise((r) => setTimeout(r, 200));
    }
  });
  const underSignins = distribution(await writesFor(phaseMs));
  stop = true;
  await Promise.all(attackers);
  const f = (x: number) => `${x.toFixed(1)} ms`;
  ctx.log(`  comment POST alone: p50 ${f(alone.p50)}, p99 ${f(alone.p99)} (${alone.n} writes)`);
  ctx.log(
    `  while ${ATTACKERS} clients sign in with wrong passwords: p50 ${f(underSignins.p50)}, p99 ${f(underSignins.p99)} ` +
      `(${underSignins.n} writes; sign-ins ${[...signins].map(([s, n]) => `${s}×${n}`).join(', ')})`,
  );
  return {
    alone,
    underSignins,
    attackers: ATTACKERS,
    signins: Object.fromEntries([...signins].map(([s, n]) => [String(s), n])),
  };
}
