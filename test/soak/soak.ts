/**
 * Chaos soak (issue 13): `npm run soak -- --minutes N [--seed S]`. Write load through the
 * routing client while a driver, at random (seeded, the seed printed), SIGKILLs and
 * restarts regions and the witness, partitions links with the fault proxies, pauses a
 * process (SIGSTOP/SIGCONT), and runs planned and forced failovers and failbacks with the
 * built CLI. At the end everything is healed and checked: `mraa verify` clean, every write
 * acknowledged before a planned failover present, no two regions acknowledging in
 * overlapping time (every ack timed here). Prints a summary; exits 1 on any violation.
 */
import { RoutingClient } from '../../src/routing/client/index.js';
import { image } from '../helpers/images.js';
import { allComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

interface Ack {
  commentId: string;
  message: string;
  region: string;
  sentAt: number;
  ackAt: number;
}
interface Move {
  kind: 'planned' | 'forced';
  command: string;
  startedAt: number;
  doneAt: number;
  ok: boolean;
}

function args() {
  const a = process.argv.slice(2);
  const get = (name: string) => {
    const i = a.indexOf(`--${name}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const minutes = Number(get('minutes') ?? '3');
  const seed = Number(get('seed') ?? Math.floor(Math.random() * 2 ** 31));
  if (!(minutes > 0) || !Number.isInteger(seed)) {
    console.error('usage: npm run soak -- --minutes N [--seed S]');
    process.exit(2);
  }
  return { minutes, seed };
}

/** mulberry32: small, seeded, good enough to choose faults. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const { minutes, seed } = args();
  console.log(`soak: ${minutes} min, seed ${seed} (rerun with --seed ${seed})`);
  const r = rng(seed);
  const d: LocalDeployment = await startDeployment({ proxies: true });
  const violations: string[] = [];
  const faults = new Map<string, number>();
  const fault = (kind: string) => faults.set(kind, (faults.get(kind) ?? 0) + 1);
  const moves: Move[] = [];
  const acks: Ack[] = [];
  const refusals = new Map<string, number>();
  let maxLagMs = 0;
  const regions = d.config.regions.map((x) => x.name);
  const P = regions[0]!;
  const witness = d.config.controlPlane.witnesses[0]!.name;
  const down = new Set<string>();
  const paused = new Set<string>();
  try {
    const auth = { authorization: `Bearer ${d.adminToken}` };
    const photo = await fetch(`${d.url[P]}/photos`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: await image('png', 20, 20),
    });
    const photoId = ((await photo.json()) as { photoId: string }).photoId;
    const client = new RoutingClient({
      config: {
        appId: d.config.appId,
        regions: d.config.regions.map((x, i) => ({
          name: x.name,
          url: x.url,
          role: i === 0 ? 'primary' : 'secondary',
        })),
      },
      EventSource: null,
      stateTimeoutMs: 1000,
    });
    await client.start();
    const regionOf = (url: string) => regions.find((n) => url.startsWith(d.url[n]!)) ?? 'unknown';

    const until = Date.now() + minutes * 60_000;
    let stop = false;
    let n = 0;
    const writer = async () => {
      while (!stop) {
        const message = `soak-${n++}`;
        const sentAt = performance.now();
        try {
          const res = await client.request(`/comments/${photoId}`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ message }),
            signal: AbortSignal.timeout(5000),
          });
          const body = (await res.json().catch(() => ({}))) as { commentId?: string; error?: { code?: string } };
          if (res.status === 201 && body.commentId) {
            acks.push({
              commentId: body.commentId,
              message,
              region: regionOf(res.url),
              sentAt,
              ackAt: performance.now(),
            });
          } else {
            const code = body.error?.code ?? String(res.status);
            refusals.set(code, (refusals.get(code) ?? 0) + 1);
            await client.refresh().catch(() => undefined);
            await sleep(100);
          }
        } catch (err) {
          const code = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
          refusals.set(code, (refusals.get(code) ?? 0) + 1);
          await client.refresh().catch(() => undefined);
          await sleep(200);
        }
      }
    };
    const lagProbe = async () => {
      while (!stop) {
        for (const name of regions) {
          if (down.has(name) || paused.has(name)) continue;
          try {
            const res = await fetch(`${d.url[name]}/status`, { headers: auth, signal: AbortSignal.timeout(1000) });
            const s = (await res.json()) as { origins?: Array<{ lagMs: number | null }> };
            for (const o of s.origins ?? []) if (o.lagMs !== null) maxLagMs = Math.max(maxLagMs, o.lagMs);
          } catch {
            /* a region down or cut: no figure */
          }
        }
        await sleep(1000);
      }
    };
    const writers = Array.from({ length: 3 }, writer);
    const prober = lagProbe();

    const restart = async (name: string) => {
      try {
        await d.restart(name);
        down.delete(name);
      } catch (err) {
        console.log(`  restart of ${name} failed (${(err as Error).message}); retried at the end`);
      }
    };
    const move = async (kind: 'planned' | 'forced', command: string[]) => {
      const startedAt = performance.now();
      const res = await d.cli(command);
      moves.push({ kind, command: command.join(' '), startedAt, doneAt: performance.now(), ok: res.code === 0 });
      await client.refresh().catch(() => undefined);
    };

    while (Date.now() < until) {
      await sleep(r.int(2000, 6000));
      const action = r.pick(['kill', 'kill-witness', 'partition', 'pause', 'move', 'move']);
      const t = ((until - Date.now()) / 1000).toFixed(0);
      if (action === 'kill') {
        const name = r.pick(regions);
        if (down.has(name)) continue;
        console.log(`[${t}s left] SIGKILL ${name}`);
        fault('SIGKILL region');
        await d.kill(name).catch(() => undefined);
        down.add(name);
        await sleep(r.int(1000, 5000));
        await restart(name);
      } else if (action === 'kill-witness') {
        if (down.has(witness)) continue;
        console.log(`[${t}s left] SIGKILL ${witness}`);
        fault('SIGKILL witness');
        await d.kill(witness).catch(() => undefined);
        down.add(witness);
        await sleep(r.int(1000, 5000));
        await restart(witness);
      } else if (action === 'partition') {
        const proxies = [...d.proxies.entries(), ...(d.witnessProxy ? [[witness, d.witnessProxy] as const] : [])];
        const [name, proxy] = r.pick(proxies);
        const how = r.pick(['cut', 'reset', 'blackhole'] as const);
        if (how === 'cut') {
          const from = r.pick(regions.filter((x) => x !== name));
          console.log(`[${t}s left] cut ${from} → ${name}`);
          proxy.cutFrom(from);
        } else {
          console.log(`[${t}s left] ${how} the link to ${name}`);
          proxy.set(how);
        }
        fault(`partition (${how})`);
        await sleep(r.int(1000, 6000));
        proxy.set('pass');
        proxy.heal();
      } else if (action === 'pause') {
        const name = r.pick([...regions, witness]);
        if (down.has(name)) continue;
        console.log(`[${t}s left] SIGSTOP ${name}`);
        fault('SIGSTOP');
        process.kill(d.pid(name), 'SIGSTOP');
        paused.add(name);
        await sleep(r.int(500, 4000));
        process.kill(d.pid(name), 'SIGCONT');
        paused.delete(name);
      } else {
        const record = await client.refresh().catch(() => undefined);
        if (record?.activeRegion === P) {
          const forced = r.next() < 0.4;
          console.log(`[${t}s left] failover${forced ? ' --ungraceful' : ''}`);
          await move(forced ? 'forced' : 'planned', forced ? ['failover', '--ungraceful'] : ['failover']);
        } else if (record) {
          console.log(`[${t}s left] failback`);
          await move('planned', ['failback']);
        }
      }
    }

    // Heal everything.
    stop = true;
    await Promise.all(writers);
    await prober;
    for (const p of [...d.proxies.values(), ...(d.witnessProxy ? [d.witnessProxy] : [])]) {
      p.set('pass');
      p.heal();
    }
    for (const name of paused) process.kill(d.pid(name), 'SIGCONT');
    for (const name of [...down]) {
      await restart(name);
      if (down.has(name)) violations.push(`${name} did not start again after the soak`);
    }
    const verify = await d.cli(['verify', '--wait', '120']);
    if (verify.code !== 0) violations.push(`mraa verify exited ${verify.code}:\n${verify.stdout}${verify.stderr}`);

    // Every acknowledged write: present, or lost only to a forced failover.
    const record = await waitFor('a writer', async () => (await client.refresh())?.activeRegion, { timeoutMs: 60_000 });
    const present = new Set((await allComments(d.url[record]!, d.adminToken, photoId)).map((c) => c.commentId));
    let lostPlanned = 0;
    let lostForced = 0;
    let lostOther = 0;
    const done = moves.filter((m) => m.ok);
    for (const a of acks) {
      if (present.has(a.commentId)) continue;
      const next = done.find((m) => m.startedAt >= a.ackAt || m.doneAt >= a.ackAt);
      if (next?.kind === 'forced') lostForced++;
      else if (next?.kind === 'planned') lostPlanned++;
      else lostOther++;
    }
    if (lostPlanned) violations.push(`${lostPlanned} writes acknowledged before a planned failover are missing`);
    if (lostOther) violations.push(`${lostOther} acknowledged writes are missing with no forced failover after them`);

    // No two regions acknowledging in overlapping time.
    const byRegion = new Map<string, Ack[]>();
    for (const a of acks) byRegion.set(a.region, [...(byRegion.get(a.region) ?? []), a]);
    const sorted = [...acks].sort((x, y) => x.sentAt - y.sentAt);
    let overlaps = 0;
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i]!;
      for (let j = i + 1; j < sorted.length && sorted[j]!.sentAt < a.ackAt; j++) {
        const b = sorted[j]!;
        if (b.region !== a.region) {
          overlaps++;
          if (overlaps <= 5)
            violations.push(
              `${a.region} and ${b.region} acknowledged in overlapping time: ${a.message} [${a.sentAt.toFixed(0)}, ${a.ackAt.toFixed(0)}] and ${b.message} [${b.sentAt.toFixed(0)}, ${b.ackAt.toFixed(0)}] ms`,
            );
        }
      }
    }

    const planned = moves.filter((m) => m.kind === 'planned');
    const forced = moves.filter((m) => m.kind === 'forced');
    console.log(
      [
        '',
        `soak summary (seed ${seed}, ${minutes} min)`,
        `  writes: ${n} sent, ${acks.length} acknowledged (${[...byRegion].map(([k, v]) => `${k} ${v.length}`).join(', ')}), refused: ${JSON.stringify(Object.fromEntries(refusals))}`,
        `  faults injected: ${[...faults].map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}`,
        `  failovers and failbacks: ${planned.filter((m) => m.ok).length}/${planned.length} planned, ${forced.filter((m) => m.ok).length}/${forced.length} forced done`,
        `  acknowledged writes lost: ${lostPlanned + lostForced + lostOther} (planned ${lostPlanned}, forced ${lostForced}, other ${lostOther})`,
        `  overlapping acknowledgements by two regions: ${overlaps}`,
        `  maximum replication lag seen: ${maxLagMs} ms`,
        `  mraa verify: ${verify.code === 0 ? 'clean' : `exit ${verify.code}`}`,
        violations.length ? `VIOLATIONS:\n${violations.map((v) => `  - ${v}`).join('\n')}` : '  no violation',
      ].join('\n'),
    );
    client.close();
  } finally {
    for (const name of paused) {
      try {
        process.kill(d.pid(name), 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    await d.close().catch(() => undefined);
  }
  return violations.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
