/**
 * @module A deterministic simulation of the control plane's own code (DESIGN §3a,
 * issue 11 "Prove it"): the real Voter (CASPaxos acceptor with lease grants), the
 * real VotersControlPlane (proposer, lease acquire) and the real WriterLease, wired
 * to a simulated world instead of disks, sockets, timers and clocks.
 *
 * Everything is driven by one seeded PRNG and one event queue ordered by simulated
 * real time, ties by insertion order. After each event the harness lets the promise
 * continuations it started run to the end (one setImmediate: there is no real I/O and
 * no real timer, so that drains every microtask and nothing else), then checks the
 * invariants. The same seed gives the same run, event for event (see `hash`).
 *
 * The world:
 * - nodes: 2 regions (voters, proposers, writers) and a witness (a voter only), or
 *   3 regions and 2 witnesses; each has its own monotonic clock whose rate is
 *   re-drawn at random times within [1 - ρ/2, 1 + ρ/2] (ρ = maxClockDrift), so any
 *   two clocks' rates differ by at most ρ; a restart may also reboot the clock
 *   (a new, unrelated offset).
 * - network: every VoterLink.send is a message (JSON-copied, as over HTTP) with a
 *   random delay (sometimes longer than a lease period), loss, duplication (the
 *   voter handles both copies; the proposer takes the first reply), reordering, and
 *   partitions: random sets of directed links cut for random durations, often one
 *   node isolated, in one direction or both. A send with no reply within its timeout
 *   rejects, as the HTTP transport does. A node's calls to its own voter go over
 *   loopback: no loss, no cut.
 * - crashes: all in-memory objects of the node go (Voter, plane, WriterLease,
 *   driver); so do its timers, sleeps, pending replies and continuations (every
 *   event carries the incarnation it belongs to; a dead incarnation's never run).
 *   The VoterStorage survives; a save in flight is kept whole or lost whole, at
 *   random. Requests already on the wire are still delivered (to whichever
 *   incarnation is up then). A restart builds everything anew and reads the register.
 * - pauses (SIGSTOP): the node's events wait until it resumes; its clock runs on.
 * - drivers: each region keeps the newest record it has read or committed, reads
 *   the register at start, periodically and when WriterLease.onNewerEpoch fires,
 *   and lets the WriterLease follow it; an operator fences, switches gracefully
 *   (from a fenced record), switches by force and lifts fences at random regions,
 *   each through planTransition.
 *
 * Invariants, after every step:
 * 1. two records returned by any read or change with the same epoch are identical;
 * 2. a read or change that started after another completed never returns a lower
 *    epoch (an empty register counts as epoch 0);
 * 3. no two regions' admission periods intersect in simulated real time. A region
 *    admits from the step at which `lease.admits(known.epoch) && isWriter(known)`
 *    is seen true until its clock reaches the lease's validUntil, cut short at the
 *    first step that sees it not admitting (or its crash).
 */

import { Voter, type VoterStorage } from '../../src/adapters/voters/voter.js';
import { leaseMargin, VotersControlPlane } from '../../src/adapters/voters/voters-control-plane.js';
import {
  initialRecord,
  isWriter,
  planTransition,
  type StateRecord,
  type TopologyView,
  type TransitionRequest,
} from '../../src/core/app-state.js';
import { DomainError } from '../../src/core/errors.js';
import type { ControlPlane, Lease } from '../../src/ports/control-plane.js';
import type { DurableVoterState, VoterLink, VoterReply, VoterRequest } from '../../src/ports/voter-protocol.js';
import { type Timers, WriterLease } from '../../src/routing/writer-lease.js';

// ---------------------------------------------------------------------------------
// Randomness: xoshiro128** seeded through splitmix32.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const split = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Exponentially distributed, with this mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** An independent stream (so lazily drawn values do not shift the others). */
  fork(): Rng {
    return new Rng(this.u32() ^ 0x5bd1e995);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

// ---------------------------------------------------------------------------------
// Clocks: piecewise linear, continuous and increasing within one incarnation.

export class SimClock {
  private readonly realStart: number[] = [];
  private readonly localStart: number[] = [];
  private readonly rate: number[] = [];

  constructor(
    private readonly rng: Rng,
    startReal: number,
    startLocal: number,
    private readonly rho: number,
  ) {
    this.push(startReal, startLocal);
  }

  private push(real: number, local: number): void {
    this.realStart.push(real);
    this.localStart.push(local);
    // Often at the very edge of the bound: the worst case is the interesting one.
    const u = this.rng.float();
    const lo = 1 - this.rho / 2;
    const hi = 1 + this.rho / 2;
    this.rate.push(u < 0.4 ? lo : u < 0.8 ? hi : lo + (hi - lo) * this.rng.float());
  }

  private extend(): void {
    const i = this.rate.length - 1;
    const duration = this.rng.range(20, 1500);
    this.push(this.realStart[i]! + duration, this.localStart[i]! + duration * this.rate[i]!);
  }

  /** The local reading at simulated real time `real`. */
  local(real: number): number {
    while (this.realStart[this.realStart.length - 1]! <= real) this.extend();
    let i = this.realStart.length - 1;
    while (i > 0 && this.realStart[i]! > real) i--;
    return this.localStart[i]! + (real - this.realStart[i]!) * this.rate[i]!;
  }

  /** The real time at which the local reading reaches `local`. */
  real(local: number): number {
    while (this.localStart[this.localStart.length - 1]! <= local) this.extend();
    let i = this.localStart.length - 1;
    while (i > 0 && this.localStart[i]! > local) i--;
    return this.realStart[i]! + (local - this.localStart[i]!) / this.rate[i]!;
  }
}

// ---------------------------------------------------------------------------------
// Events.

const ANY = -1;

interface Ev {
  t: number;
  seq: number;
  /** The node whose event this is (-1: the world's). */
  node: number;
  /** The incarnation it belongs to (ANY: whichever is up, e.g. a request on the wire). */
  inc: number;
  kind: number;
  fn: () => void;
  cancelled: boolean;
  label?: string;
}

class EventQueue {
  private readonly heap: Ev[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(e: Ev): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): Ev | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Ev, b: Ev): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

const K = {
  request: 1,
  reply: 2,
  timeout: 3,
  save: 4,
  load: 5,
  sleep: 6,
  timer: 7,
  fault: 8,
  operator: 9,
  start: 10,
  resume: 11,
} as const;

// ---------------------------------------------------------------------------------
// The simulation.

export type Variant =
  /** The code as it is. */
  | 'correct'
  /** Broken on purpose: voters grant every lease but never remember it (no lease blocks a change). */
  | 'voters-ignore-leases'
  /** Broken on purpose: the holder counts its lease from the reply instead of from before the request. */
  | 'lease-from-reply'
  /** Broken on purpose: the holder takes no drift margin off its lease. */
  | 'no-drift-margin';

export interface SimOptions {
  seed: number;
  variant?: Variant;
  /** Keep a readable trace of every event (SIM_SEED runs). */
  verbose?: boolean;
  /** Simulated real time of one run. */
  durationMs?: number;
}

export interface SimStats {
  steps: number;
  messages: number;
  lost: number;
  duplicated: number;
  commits: number;
  creations: number;
  fences: number;
  switches: number;
  forcedSwitches: number;
  lifts: number;
  failedChanges: number;
  reads: number;
  failedReads: number;
  admissions: number;
  admittedMs: number;
  maxLeaseWaitMs: number;
  /** The shortest time between one region's admission ending and another's starting. */
  minHandoverMs: number;
  crashes: number;
  pauses: number;
  partitions: number;
  highestEpoch: number;
}

/** Every figure at zero (the shortest hand-over at infinity): one run's start, and the sum of runs. */
export function emptyStats(): SimStats {
  return {
    steps: 0,
    messages: 0,
    lost: 0,
    duplicated: 0,
    commits: 0,
    creations: 0,
    fences: 0,
    switches: 0,
    forcedSwitches: 0,
    lifts: 0,
    failedChanges: 0,
    reads: 0,
    failedReads: 0,
    admissions: 0,
    admittedMs: 0,
    maxLeaseWaitMs: 0,
    minHandoverMs: Number.POSITIVE_INFINITY,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    highestEpoch: 0,
  };
}

export interface SimResult {
  seed: number;
  variant: Variant;
  config: string;
  failure?: { step: number; timeMs: number; message: string };
  hash: string;
  stats: SimStats;
  trace: string[];
}

const APP = 'photos';
const WALL_CLOCK_BASE = Date.UTC(2026, 0, 1);

interface Interval {
  region: string;
  start: number;
  end: number;
}

interface PendingSave {
  appId: string;
  json: string;
  ev: Ev;
}

interface Incarnation {
  voter: Voter;
  plane?: VotersControlPlane;
  lease?: WriterLease;
  driver?: Driver;
}

class SimNode {
  up = true;
  inc = 0;
  paused = false;
  deferred: Ev[] = [];
  readonly durable = new Map<string, string>();
  readonly pendingSaves = new Set<PendingSave>();
  live: Incarnation | undefined;
  open: Interval | undefined;
  logHead = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly region: boolean,
    public clock: SimClock,
    readonly rng: Rng,
  ) {}
}

export class Simulation {
  now = 0;
  private seq = 0;
  private readonly queue = new EventQueue();
  private readonly rng: Rng;
  private readonly net: Rng;
  private readonly faults: Rng;
  private readonly ops: Rng;
  readonly nodes: SimNode[] = [];
  private readonly regions: SimNode[] = [];
  readonly topology: TopologyView;
  readonly leaseMs: number;
  readonly rho: number;
  readonly callTimeoutMs: number;
  private readonly loss: number;
  private readonly dup: number;
  private readonly longDelay: number;
  /** A fast network and fast disks: hand-overs as tight as the margins allow. */
  private readonly lan: boolean;
  private readonly durationMs: number;
  /** Swarm testing: each run weighs the kinds of fault differently (some not at all). */
  private readonly swarm: {
    partition: number;
    crash: number;
    pause: number;
    writer: number;
    heal: number;
    faultGapMs: number;
    operatorGapMs: number;
    /** How often an operator's change meets a fault timed to land while it is in flight. */
    duringChanges: number;
  };
  private readonly cut: Float64Array;
  readonly variant: Variant;
  private readonly verbose: boolean;
  readonly trace: string[] = [];
  private h = 0x811c9dc5;
  failure: SimResult['failure'];
  readonly stats: SimStats = emptyStats();

  /** Invariant 1: every record seen, by epoch. */
  private readonly byEpoch = new Map<number, string>();
  /** Invariant 2: the highest epoch among the first k completed operations, for each k. */
  private readonly completedMax: number[] = [];
  /** Invariant 3. */
  private readonly intervals: Interval[] = [];
  private opCounter = 0;
  readonly config: string;

  constructor(readonly options: SimOptions) {
    this.rng = new Rng(options.seed);
    this.variant = options.variant ?? 'correct';
    this.verbose = options.verbose ?? false;
    const r = this.rng;
    const five = r.chance(0.25);
    const regionNames = five ? ['r1', 'r2', 'r3'] : ['r1', 'r2'];
    const witnessNames = five ? ['w1', 'w2'] : ['w1'];
    this.topology = { primary: 'r1', regions: regionNames };
    this.leaseMs = Math.round(r.range(400, 1000));
    this.rho = r.pick([0.001, 0.01, 0.01, 0.05]);
    this.callTimeoutMs = Math.round(this.leaseMs * r.range(0.1, 0.35));
    this.loss = r.pick([0, 0.02, 0.05, 0.15]);
    this.dup = r.pick([0, 0.02, 0.1]);
    this.longDelay = r.pick([0, 0.01, 0.03]);
    this.lan = r.chance(0.3);
    this.durationMs = options.durationMs ?? Math.round(this.leaseMs * r.range(5, 8));
    const L = this.leaseMs;
    this.swarm = {
      partition: r.pick([0, 1, 3]),
      crash: r.pick([0, 1, 2]),
      pause: r.pick([0, 1, 2]),
      writer: r.pick([0, 2, 4]),
      heal: 0.5,
      faultGapMs: r.pick([L / 3, L, 2 * L, 4 * L]),
      operatorGapMs: r.pick([L / 2, L, 2 * L, 4 * L]),
      duringChanges: r.pick([0, 0.3, 0.6]),
    };
    this.net = r.fork();
    this.faults = r.fork();
    this.ops = r.fork();
    for (const [i, name] of [...regionNames, ...witnessNames].entries()) {
      const nodeRng = r.fork();
      const clock = new SimClock(nodeRng.fork(), 0, nodeRng.range(1e3, 1e7), this.rho);
      const node = new SimNode(i, name, regionNames.includes(name), clock, nodeRng);
      this.nodes.push(node);
      if (node.region) this.regions.push(node);
    }
    this.cut = new Float64Array(this.nodes.length * this.nodes.length);
    this.config =
      `${regionNames.length} regions + ${witnessNames.length} witness(es), lease ${this.leaseMs} ms, ρ ${this.rho}, ` +
      `call timeout ${this.callTimeoutMs} ms, ${this.lan ? 'LAN' : 'WAN'}, loss ${this.loss}, dup ${this.dup}, ` +
      `long delays ${this.longDelay}, ` +
      `${this.durationMs} ms, faults ${JSON.stringify(this.swarm)}, variant ${this.variant}`;
  }

  // --- scheduling -----------------------------------------------------------------

  at(t: number, node: number, inc: number, kind: number, fn: () => void, label?: () => string): Ev {
    const ev: Ev = { t: Math.max(t, this.now), seq: this.seq++, node, inc, kind, fn, cancelled: false };
    if (this.verbose && label) ev.label = label();
    this.queue.push(ev);
    return ev;
  }

  /** The real time at which `node`'s clock will have advanced `ms` from now. */
  realAfter(node: SimNode, ms: number): number {
    return node.clock.real(node.clock.local(this.now) + Math.max(0, ms));
  }

  log(line: () => string): void {
    if (this.verbose) this.trace.push(`${this.now.toFixed(3).padStart(10)} ${line()}`);
  }

  private mix(x: number): void {
    let h = this.h ^ (x | 0);
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
    this.h = h;
  }

  private mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  // --- the run --------------------------------------------------------------------

  async run(): Promise<SimResult> {
    for (const node of this.nodes) this.boot(node);
    this.at(this.faults.exp(this.swarm.faultGapMs), -1, ANY, K.fault, () => this.fault());
    this.at(this.ops.range(0.5, 1.5) * this.leaseMs, -1, ANY, K.operator, () => this.operator());
    const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      const ev = this.queue.pop();
      if (!ev || ev.t > this.durationMs) break;
      if (ev.cancelled) continue;
      if (ev.node >= 0) {
        const node = this.nodes[ev.node]!;
        if (!node.up || (ev.inc !== ANY && ev.inc !== node.inc)) continue;
        if (node.paused) {
          node.deferred.push(ev);
          continue;
        }
      }
      this.now = ev.t;
      this.stats.steps++;
      this.mix(ev.kind);
      this.mix(ev.node);
      this.mix(Math.round(ev.t * 1000));
      if (ev.label) this.log(() => `${ev.node >= 0 ? this.nodes[ev.node]!.name : '--'} ${ev.label}`);
      ev.fn();
      await flush();
      this.checkAdmission();
      if (this.failure) break;
    }
    if (!this.failure) {
      this.now = Math.max(this.now, this.durationMs);
      for (const node of this.regions) this.closeInterval(node);
    }
    for (const [epoch, json] of [...this.byEpoch].sort((a, b) => a[0] - b[0])) {
      this.mix(epoch);
      this.mixString(json);
    }
    return {
      seed: this.options.seed,
      variant: this.variant,
      config: this.config,
      ...(this.failure ? { failure: this.failure } : {}),
      hash: (this.h >>> 0).toString(16).padStart(8, '0'),
      stats: this.stats,
      trace: this.trace,
    };
  }

  fail(message: string): void {
    if (this.failure) return;
    this.failure = { step: this.stats.steps, timeMs: this.now, message };
    this.log(() => `INVARIANT VIOLATED: ${message}`);
  }

  // --- nodes ----------------------------------------------------------------------

  private boot(node: SimNode): void {
    const inc = node.inc;
    const storage: VoterStorage = {
      load: (appId) =>
        new Promise((resolve) => {
          this.at(this.now + this.net.range(0.01, 1), node.index, inc, K.load, () => {
            const json = node.durable.get(appId);
            resolve(json === undefined ? undefined : (JSON.parse(json) as DurableVoterState));
          });
        }),
      save: (appId, state) =>
        new Promise((resolve) => {
          const json = JSON.stringify(state);
          const pending: PendingSave = { appId, json, ev: undefined as unknown as Ev };
          pending.ev = this.at(
            this.now + (this.lan ? this.net.range(0.01, 0.3) : this.net.range(0.05, this.net.chance(0.05) ? 30 : 3)),
            node.index,
            inc,
            K.save,
            () => {
              node.pendingSaves.delete(pending);
              node.durable.set(appId, json);
              resolve();
            },
            () => `fsync ${json}`,
          );
          node.pendingSaves.add(pending);
        }),
    };
    const now = () => node.clock.local(this.now);
    const voter =
      this.variant === 'voters-ignore-leases'
        ? new LeaseIgnoringVoter({ storage, now, leaseMs: this.leaseMs })
        : new Voter({ storage, now, leaseMs: this.leaseMs });
    node.live = { voter };
    if (!node.region) return;

    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        this.at(this.realAfter(node, ms), node.index, inc, K.sleep, resolve, () => `sleep ${ms.toFixed(1)} done`);
      });
    const timers: Timers = {
      setTimeout: (fn, ms) => this.at(this.realAfter(node, ms), node.index, inc, K.timer, fn, () => 'lease timer'),
      clearTimeout: (handle) => {
        if (handle) (handle as Ev).cancelled = true;
      },
    };
    const planeRng = node.rng.fork();
    let changes = 0;
    const plane = new VotersControlPlane({
      self: node.name,
      voters: this.nodes.map((to) => new SimLink(this, node, inc, to)),
      leaseMs: this.leaseMs,
      maxClockDrift: this.rho,
      now,
      sleep,
      random: () => planeRng.float(),
      callTimeoutMs: this.callTimeoutMs,
      newChangeId: () => `${node.name}.${inc}.${++changes}`,
    });
    const driver = new Driver(this, node, inc, plane);
    const lease = new WriterLease({
      appId: APP,
      region: node.name,
      plane:
        this.variant === 'correct' || this.variant === 'voters-ignore-leases'
          ? plane
          : new BrokenLease(plane, now, this.leaseMs, this.rho, this.variant),
      now,
      leaseMs: this.leaseMs,
      logHead: () => node.logHead,
      timers,
      onNewerEpoch: () => {
        this.log(() => `${node.name} lease: a voter knows a newer epoch`);
        void driver.read('newer epoch');
      },
      onChange: (l: Lease | undefined, why: string) =>
        this.log(
          () => `${node.name} lease ${l ? `epoch ${l.epoch} until ${l.validUntil.toFixed(1)}` : 'none'}: ${why}`,
        ),
    });
    driver.lease = lease;
    node.live = { voter, plane, lease, driver };
    this.at(
      this.now + this.ops.range(0, 50),
      node.index,
      inc,
      K.start,
      () => driver.start(),
      () => 'start',
    );
  }

  private crash(node: SimNode): void {
    this.stats.crashes++;
    this.closeInterval(node);
    for (const save of node.pendingSaves) {
      const kept = this.faults.chance(0.5);
      if (kept) node.durable.set(save.appId, save.json);
      save.ev.cancelled = true;
      this.log(() => `${node.name} crash: save in flight ${kept ? 'persisted' : 'lost'}`);
    }
    node.pendingSaves.clear();
    node.deferred = [];
    node.paused = false;
    node.up = false;
    node.inc++;
    node.live = undefined;
  }

  private restart(node: SimNode): void {
    node.up = true;
    const reboot = this.faults.chance(0.3);
    const local = reboot ? this.faults.range(1e3, 1e7) : node.clock.local(this.now);
    node.clock = new SimClock(node.rng.fork(), this.now, local, this.rho);
    this.log(() => `${node.name} restarts${reboot ? ' (rebooted: new clock)' : ''}`);
    this.boot(node);
  }

  private resume(node: SimNode): void {
    node.paused = false;
    const deferred = node.deferred;
    node.deferred = [];
    for (const ev of deferred) {
      ev.t = this.now;
      ev.seq = this.seq++;
      this.queue.push(ev);
    }
  }

  // --- faults ---------------------------------------------------------------------

  private fault(): void {
    const r = this.faults;
    const w = this.swarm;
    const kinds: Array<[number, () => void]> = [
      [w.partition, () => this.partition()],
      [w.crash, () => this.crashSome()],
      [w.pause, () => this.pause(r.pick(this.nodes))],
      [w.writer, () => this.strikeWriter()],
      [
        w.heal,
        () => {
          this.cut.fill(0);
          this.log(() => 'all links healed');
        },
      ],
    ];
    let u = r.float() * kinds.reduce((sum, [weight]) => sum + weight, 0);
    for (const [i, [weight, act]] of kinds.entries()) {
      if (u < weight || i === kinds.length - 1) {
        act();
        break;
      }
      u -= weight;
    }
    this.at(this.now + r.exp(w.faultGapMs), -1, ANY, K.fault, () => this.fault());
  }

  /**
   * A fault timed to land while `proposer`'s change is in flight: its answers lost (so
   * it may fail a change that committed), a node crashing mid-round (a voter just after
   * it accepted), or the proposer paused.
   */
  aroundChange(proposer: SimNode): void {
    const r = this.faults;
    if (!r.chance(this.swarm.duringChanges)) return;
    const L = this.leaseMs;
    const u = r.float();
    this.at(this.now + r.range(0, this.lan ? 3 : 20), -1, ANY, K.fault, () => {
      if (u < 0.4) {
        const until = this.now + r.range(20, L);
        for (const other of this.nodes) if (other !== proposer) this.cutLink(other.index, proposer.index, until);
        this.log(() => `during a change: ${proposer.name} cannot receive until ${until.toFixed(1)}`);
      } else if (u < 0.8) {
        this.crashSome();
      } else {
        this.pause(proposer);
      }
    });
  }

  private crashSome(): void {
    const r = this.faults;
    const L = this.leaseMs;
    const node = r.pick(this.nodes);
    if (!node.up) return;
    this.log(() => `${node.name} crashes`);
    this.crash(node);
    this.at(this.now + (r.chance(0.3) ? r.range(L, 3 * L) : r.range(1, L)), -1, ANY, K.fault, () => this.restart(node));
  }

  private cutLink(from: number, to: number, until: number): void {
    const k = from * this.nodes.length + to;
    this.cut[k] = Math.max(this.cut[k]!, until);
  }

  /** Cuts what `x` sends and what it receives (60 %), or only one of them. */
  private isolate(x: number, until: number): string {
    const how = this.faults.float();
    for (let y = 0; y < this.nodes.length; y++) {
      if (y === x) continue;
      if (how < 0.8) this.cutLink(x, y, until);
      if (how < 0.6 || how >= 0.8) this.cutLink(y, x, until);
    }
    const name = this.nodes[x]!.name;
    return how < 0.6 ? `${name} isolated` : how < 0.8 ? `${name} cannot send` : `${name} cannot receive`;
  }

  private partition(): void {
    const r = this.faults;
    const L = this.leaseMs;
    const n = this.nodes.length;
    this.stats.partitions++;
    const until = this.now + (r.chance(0.3) ? r.range(L, 3 * L) : r.range(20, L));
    if (r.chance(0.5)) {
      const what = this.isolate(r.int(n), until);
      this.log(() => `partition until ${until.toFixed(1)}: ${what}`);
      return;
    }
    const cuts: string[] = [];
    for (let x = 0; x < n; x++) {
      for (let y = x + 1; y < n; y++) {
        if (!r.chance(0.35)) continue;
        const how = r.float();
        if (how < 0.85) this.cutLink(x, y, until);
        if (how < 0.7 || how >= 0.85) this.cutLink(y, x, until);
        if (this.verbose)
          cuts.push(`${this.nodes[x]!.name}${how < 0.7 ? '<>' : how < 0.85 ? '>' : '<'}${this.nodes[y]!.name}`);
      }
    }
    this.log(() => `partition until ${until.toFixed(1)}: ${cuts.join(' ')}`);
  }

  private pause(node: SimNode): void {
    const r = this.faults;
    const L = this.leaseMs;
    if (!node.up || node.paused) return;
    this.stats.pauses++;
    const inc = node.inc;
    node.paused = true;
    const d = r.chance(0.3) ? r.range(L, 2 * L) : r.range(5, L);
    this.log(() => `${node.name} paused for ${d.toFixed(1)} ms`);
    this.at(this.now + d, -1, ANY, K.resume, () => {
      if (node.up && node.inc === inc && node.paused) {
        this.log(() => `${node.name} resumes`);
        this.resume(node);
      }
    });
  }

  /**
   * The scenario the lease exists for: cut off (or pause) the region that admits
   * writes now, then force a switch to another region soon after.
   */
  private strikeWriter(): void {
    const r = this.faults;
    const L = this.leaseMs;
    const writers = this.regions.filter((node) => node.open !== undefined);
    if (writers.length === 0) return;
    const writer = r.pick(writers);
    const u = r.float();
    if (u < 0.3) {
      // No fault at all: the writer is alive and renewing, and must still stop in time.
    } else if (u < 0.8) {
      this.stats.partitions++;
      const until = this.now + r.range(0.3 * L, 3 * L);
      const what = this.isolate(writer.index, until);
      this.log(() => `strike the writer until ${until.toFixed(1)}: ${what}`);
    } else {
      this.pause(writer);
    }
    if (r.chance(0.8)) {
      const other = r.pick(this.regions.filter((node) => node !== writer));
      this.at(this.now + r.range(0, 1.5 * L), other.index, ANY, K.operator, () =>
        this.ask(other, 'forced', other.name),
      );
    }
  }

  isCut(from: SimNode, to: SimNode): boolean {
    return this.cut[from.index * this.nodes.length + to.index]! > this.now;
  }

  // --- the network ----------------------------------------------------------------

  /** Sends `payload` from one node to another: lost, duplicated, delayed, or cut. */
  transmit(
    from: SimNode,
    to: SimNode,
    target: { node: number; inc: number },
    kind: number,
    deliver: () => void,
    what: () => string,
  ): void {
    this.stats.messages++;
    const loopback = from === to;
    if (!loopback && (this.isCut(from, to) || this.net.chance(this.loss))) {
      this.stats.lost++;
      this.log(() => `${from.name}>${to.name} lost: ${what()}`);
      return;
    }
    const copies = !loopback && this.net.chance(this.dup) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const delay = loopback
        ? this.net.range(0.01, this.lan ? 0.2 : 2)
        : this.net.chance(this.longDelay)
          ? this.net.range(this.callTimeoutMs / 2, 1.5 * this.leaseMs)
          : this.lan
            ? this.net.range(0.05, 1)
            : this.net.chance(0.2)
              ? this.net.range(5, 50)
              : this.net.range(0.1, 5);
      this.at(
        this.now + delay,
        target.node,
        target.inc,
        kind,
        () => {
          if (!loopback && this.isCut(from, to)) {
            this.log(() => `${from.name}>${to.name} cut in flight: ${what()}`);
            return;
          }
          deliver();
        },
        () => `${from.name}>${to.name} ${what()}`,
      );
    }
  }

  // --- operator -------------------------------------------------------------------

  private operator(): void {
    const r = this.ops;
    let node = r.pick(this.regions);
    const known = node.live?.driver?.known;
    // Mostly what an operator would ask given the state the region shows; sometimes anything.
    let kind: Action;
    if (!known || r.chance(0.25)) kind = r.pick(['fence', 'switch', 'forced', 'lift'] as const);
    else if (known.state === 'fenced') kind = r.chance(0.6) ? 'switch' : 'lift';
    else kind = r.chance(0.55) ? 'fence' : 'forced';
    // A fence is mostly asked of the writer; a switch mostly of its target (as the CLI does).
    if (kind === 'fence' && known && r.chance(0.7)) {
      node = this.regions.find((x) => x.name === known.activeRegion) ?? node;
    }
    const target = r.chance(0.7) ? node.name : r.pick(this.topology.regions);
    this.at(this.now, node.index, ANY, K.operator, () => this.ask(node, kind, target));
    this.at(this.now + r.exp(this.swarm.operatorGapMs), -1, ANY, K.operator, () => this.operator());
  }

  private ask(node: SimNode, kind: Action, target: string): void {
    this.log(() => `${node.name} operator: ${kind}${kind === 'switch' || kind === 'forced' ? ` to ${target}` : ''}`);
    void node.live?.driver?.operate(kind, target);
  }

  // --- invariants -----------------------------------------------------------------

  newOp(): number {
    return this.completedMax.length;
  }

  /** A read or change completed with `record` (undefined: the register is empty). */
  completed(startedAfter: number, record: StateRecord | undefined, how: string): void {
    const epoch = record?.epoch ?? 0;
    this.mix(epoch);
    const required = startedAfter > 0 ? this.completedMax[startedAfter - 1]! : 0;
    if (epoch < required) {
      this.fail(
        `epochs went back: ${how} returned epoch ${epoch} after an operation that completed before it started had returned epoch ${required}`,
      );
    }
    const prev = this.completedMax.length > 0 ? this.completedMax[this.completedMax.length - 1]! : 0;
    this.completedMax.push(Math.max(prev, epoch));
    if (!record) return;
    this.stats.highestEpoch = Math.max(this.stats.highestEpoch, epoch);
    const json = canonical(record);
    const seen = this.byEpoch.get(epoch);
    if (seen === undefined) this.byEpoch.set(epoch, json);
    else if (seen !== json) this.fail(`two different records with epoch ${epoch}: ${seen} and ${json} (${how})`);
  }

  private checkAdmission(): void {
    for (const node of this.regions) {
      const live = node.live;
      const known = live?.driver?.known;
      const lease = live?.lease;
      const admitting = !!lease && !!known && isWriter(known, node.name) && lease.admits(known.epoch);
      if (!admitting) {
        this.closeInterval(node);
        continue;
      }
      const end = node.clock.real(lease.validUntil!);
      let iv = node.open;
      if (iv && iv.end > this.now) {
        iv.end = Math.max(iv.end, end);
      } else {
        if (iv) this.closeInterval(node);
        iv = { region: node.name, start: this.now, end };
        node.open = iv;
        this.intervals.push(iv);
        this.stats.admissions++;
        this.log(() => `${node.name} admits at epoch ${known.epoch} (until ${end.toFixed(3)} real)`);
      }
      for (const other of this.intervals) {
        if (other.region === node.name) continue;
        if (other.end <= iv.start) this.stats.minHandoverMs = Math.min(this.stats.minHandoverMs, iv.start - other.end);
        if (other.start < iv.end && iv.start < other.end) {
          this.fail(
            `two writers: ${node.name} admits at epoch ${known.epoch} in [${iv.start.toFixed(3)}, ${iv.end.toFixed(3)}) ` +
              `and ${other.region} admitted in [${other.start.toFixed(3)}, ${other.end.toFixed(3)}) (simulated real ms)`,
          );
          return;
        }
      }
    }
  }

  private closeInterval(node: SimNode): void {
    const iv = node.open;
    if (!iv) return;
    iv.end = Math.min(iv.end, this.now);
    this.stats.admittedMs += Math.max(0, iv.end - iv.start);
    node.open = undefined;
  }

  newOpId(): number {
    return ++this.opCounter;
  }
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------
// A link from one region's proposer to one voter, as the HTTP transport behaves.

class SimLink implements VoterLink {
  readonly name: string;

  constructor(
    private readonly sim: Simulation,
    private readonly from: SimNode,
    private readonly inc: number,
    private readonly to: SimNode,
  ) {
    this.name = to.name;
  }

  send(request: VoterRequest, timeoutMs: number): Promise<VoterReply> {
    const { sim, from, to, inc } = this;
    const body = JSON.stringify(request);
    return new Promise<VoterReply>((resolve, reject) => {
      let settled = false;
      const timeout = sim.at(
        sim.realAfter(from, timeoutMs),
        from.index,
        inc,
        K.timeout,
        () => {
          if (settled) return;
          settled = true;
          reject(new Error(`voter ${to.name}: no answer within ${timeoutMs} ms`));
        },
        () => `timeout ${request.op} to ${to.name}`,
      );
      sim.transmit(
        from,
        to,
        { node: to.index, inc: ANY },
        K.request,
        () => {
          const voter = to.live!.voter;
          const voterInc = to.inc;
          voter.handle(JSON.parse(body) as VoterRequest, from.name).then(
            (reply) => {
              if (!to.up || to.inc !== voterInc) return;
              const answer = JSON.stringify(reply);
              sim.transmit(
                to,
                from,
                { node: from.index, inc },
                K.reply,
                () => {
                  if (settled) return;
                  settled = true;
                  timeout.cancelled = true;
                  resolve(JSON.parse(answer) as VoterReply);
                },
                () => `reply ${answer}`,
              );
            },
            (err: unknown) => sim.log(() => `${to.name} voter failed: ${String(err)}`),
          );
        },
        () => `${body}`,
      );
    });
  }
}

// ---------------------------------------------------------------------------------
// A region's driver: its known record, its reads, and the operator's actions.

type Action = 'fence' | 'switch' | 'forced' | 'lift';

class Driver {
  known: StateRecord | undefined;
  lease!: WriterLease;
  private reading = false;
  private readAgain = false;
  private creating = false;

  constructor(
    private readonly sim: Simulation,
    private readonly node: SimNode,
    private readonly inc: number,
    private readonly plane: ControlPlane,
  ) {}

  start(): void {
    void this.read('start');
    this.tick();
  }

  private tick(): void {
    const ms = this.node.rng.range(0.3, 1) * this.sim.leaseMs;
    this.sim.at(
      this.sim.realAfter(this.node, ms),
      this.node.index,
      this.inc,
      K.timer,
      () => {
        void this.read('periodic');
        this.tick();
      },
      () => 'periodic read',
    );
  }

  /** Adopts a record the register returned, if newer than the one known. */
  learn(record: StateRecord): void {
    if (this.known && record.epoch <= this.known.epoch) return;
    this.known = record;
    this.sim.log(() => `${this.node.name} knows epoch ${record.epoch}: ${record.state} ${record.activeRegion}`);
    this.lease.follow(record);
  }

  async read(why: string): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    const sim = this.sim;
    const started = sim.newOp();
    sim.log(() => `${this.node.name} reads (${why})`);
    try {
      const record = await this.plane.read(APP);
      sim.stats.reads++;
      sim.log(
        () =>
          `${this.node.name} read: ${record ? `epoch ${record.epoch} ${record.state} ${record.activeRegion}` : 'empty'}`,
      );
      sim.completed(started, record, `a read by ${this.node.name}`);
      if (record) this.learn(record);
      else void this.create();
    } catch (err) {
      sim.stats.failedReads++;
      sim.log(() => `${this.node.name} read failed: ${(err as Error).message}`);
    } finally {
      this.reading = false;
      if (this.readAgain) {
        this.readAgain = false;
        void this.read('again');
      }
    }
  }

  /** The first record of the app (any region may try; the register lets one win). */
  private async create(): Promise<void> {
    if (this.creating) return;
    this.creating = true;
    const sim = this.sim;
    const id = sim.newOpId();
    const started = sim.newOp();
    try {
      const outcome = await this.plane.change(
        APP,
        (current) => {
          if (current) throw new DomainError('conflict', 'the app exists');
          return {
            ...initialRecord(APP, sim.topology, new Date(WALL_CLOCK_BASE + sim.now)),
            reason: `created by ${this.node.name}#${this.inc}/${id}`,
          };
        },
        { requester: this.node.name, timeoutMs: 3 * sim.leaseMs },
      );
      sim.stats.commits++;
      sim.stats.creations++;
      sim.log(() => `${this.node.name} created the app: epoch ${outcome.record.epoch}`);
      sim.completed(started, outcome.record, `the creation by ${this.node.name}`);
      this.learn(outcome.record);
    } catch (err) {
      sim.stats.failedChanges++;
      sim.log(() => `${this.node.name} create failed: ${(err as Error).message}`);
    } finally {
      this.creating = false;
    }
  }

  async operate(kind: Action, target: string): Promise<void> {
    const sim = this.sim;
    const self = this.node.name;
    const id = sim.newOpId();
    const reason = `${kind} by ${self}#${this.inc}/${id}`;
    const stateOf = (region: string) => (region === sim.topology.primary ? 'active' : 'failover');
    const request = (current: StateRecord): TransitionRequest => {
      switch (kind) {
        case 'fence':
          return { state: 'fenced', reason };
        case 'lift':
          return { state: stateOf(current.activeRegion), activeRegion: current.activeRegion, reason };
        case 'switch':
        case 'forced': {
          // Away from the current writer: to the region asked for, or else another one.
          const to =
            target !== current.activeRegion
              ? target
              : (sim.topology.regions.find((r) => r !== current.activeRegion) ?? target);
          return { state: stateOf(to), activeRegion: to, reason, ...(kind === 'forced' ? { force: true } : {}) };
        }
      }
    };
    // A fence asked of the writer itself: stop admitting first, release after.
    const resume = kind === 'fence' && isWriter(this.known, self) ? this.lease.suspend() : undefined;
    const started = sim.newOp();
    sim.log(() => `${self} proposes ${reason}${resume ? ' (suspended its lease)' : ''}`);
    sim.aroundChange(this.node);
    try {
      const outcome = await this.plane.change(
        APP,
        (current) => {
          if (!current) throw new DomainError('app_not_found', 'no app yet');
          return planTransition(current, request(current), sim.topology, new Date(WALL_CLOCK_BASE + sim.now)).next;
        },
        {
          requester: self,
          timeoutMs: 3 * sim.leaseMs,
          onWait: (w) => sim.log(() => `${self} waits for the lease of ${w.holder}@${w.epoch}: ${w.remainingMs} ms`),
        },
      );
      const record = outcome.record;
      sim.stats.commits++;
      if (kind === 'fence') sim.stats.fences++;
      if (kind === 'switch') sim.stats.switches++;
      if (kind === 'forced') sim.stats.forcedSwitches++;
      if (kind === 'lift') sim.stats.lifts++;
      sim.stats.maxLeaseWaitMs = Math.max(sim.stats.maxLeaseWaitMs, outcome.waitedMs);
      sim.log(
        () =>
          `${self} committed ${reason}: epoch ${record.epoch} ${record.state} ${record.activeRegion}` +
          (outcome.waitedFor ? ` after waiting ${outcome.waitedMs.toFixed(1)} ms for ${outcome.waitedFor.holder}` : ''),
      );
      sim.completed(started, record, `${reason}`);
      this.learn(record);
      if (resume) await this.lease.release(record.epoch - 1);
    } catch (err) {
      sim.stats.failedChanges++;
      sim.log(() => `${self} ${reason} failed: ${(err as Error).message}`);
    } finally {
      resume?.();
    }
  }
}

// ---------------------------------------------------------------------------------
// Broken variants, to show the simulation can fail.

/** Grants every lease and remembers none: no change ever waits for a lease. */
class LeaseIgnoringVoter extends Voter {
  override handle(request: VoterRequest, from: string): Promise<VoterReply> {
    if (request.op === 'grant') return Promise.resolve({ ok: true, op: 'grant' });
    return super.handle(request, from);
  }
}

/** Counts the lease from when the answers came back, or without the drift margin. */
class BrokenLease implements ControlPlane {
  readonly voterCount: number;

  constructor(
    private readonly plane: ControlPlane,
    private readonly now: () => number,
    private readonly leaseMs: number,
    private readonly rho: number,
    private readonly variant: Variant,
  ) {
    this.voterCount = plane.voterCount;
  }

  read(appId: string) {
    return this.plane.read(appId);
  }

  change(...args: Parameters<ControlPlane['change']>) {
    return this.plane.change(...args);
  }

  async acquire(request: Parameters<ControlPlane['acquire']>[0]): Promise<Lease> {
    const lease = await this.plane.acquire(request);
    const margin = leaseMargin(this.leaseMs, this.rho);
    if (this.variant === 'no-drift-margin') return { ...lease, validUntil: lease.validUntil + margin };
    return { ...lease, validUntil: this.now() + this.leaseMs - margin };
  }

  release(appId: string, holder: string, epoch: number) {
    return this.plane.release(appId, holder, epoch);
  }

  lastWriterReport(appId: string, region: string) {
    return this.plane.lastWriterReport(appId, region);
  }

  health(appId: string) {
    return this.plane.health(appId);
  }

  close() {
    return this.plane.close();
  }
}

export function simulate(options: SimOptions): Promise<SimResult> {
  return new Simulation(options).run();
}
