/**
 * @module Remembers a write refused with 503 `no_quorum` (the regions cannot agree,
 * DESIGN §3a), so every write control pauses with that reason, and clears it by
 * itself: on the next state event in which the followed region has its quorum, or
 * when a check of the state (after the server's Retry-After, then backing off) finds
 * it has. Framework-free: the app reads it with useSyncExternalStore.
 */
import type { RoutingClient, RoutingSnapshot, StateRecord } from '../../../src/routing/client/index.js';
import { ApiError } from '../api/errors';
import { followedQuorum, followedRecord } from './writes';

export interface QuorumWatchOptions {
  /** First check after a refusal when the server gave no Retry-After (default 1000 ms). */
  firstCheckMs?: number;
  /** Upper bound of the checks' backoff (default 15 000 ms). */
  maxCheckMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (timer: unknown) => void;
}

type Routing = Pick<RoutingClient, 'snapshot' | 'subscribe' | 'refresh'>;

export class QuorumWatch {
  private refusal: { record: StateRecord | undefined; delayMs: number } | undefined;
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private timer: unknown;
  private checking = false;

  constructor(
    private readonly routing: Routing,
    private readonly opts: QuorumWatchOptions = {},
  ) {}

  /** Whether a write was refused for want of a quorum and the quorum is not known to be back. */
  get refused(): boolean {
    return this.refusal !== undefined;
  }

  /** Follows the routing client's snapshots; idempotent, and again after `stop`. */
  start(): void {
    this.unsubscribe ??= this.routing.subscribe((s) => this.onSnapshot(s));
    if (this.refusal && this.timer === undefined) this.scheduleCheck(this.refusal.delayMs);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelCheck();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Every failed write goes through here; only a 503 `no_quorum` is kept. */
  report = (err: unknown): void => {
    if (!(err instanceof ApiError) || err.code !== 'no_quorum') return;
    const first = this.opts.firstCheckMs ?? 1000;
    const delayMs = Math.max(first, (err.retryAfter ?? 0) * 1000);
    const wasRefused = this.refused;
    this.refusal = { record: followedRecord(this.routing.snapshot), delayMs };
    if (!wasRefused) this.notify();
    this.cancelCheck();
    this.scheduleCheck(delayMs);
  };

  private onSnapshot(snapshot: RoutingSnapshot): void {
    if (!this.refusal) return;
    const record = followedRecord(snapshot);
    // A state event since the refusal, and it says the quorum is there.
    if (record !== this.refusal.record && followedQuorum(snapshot) === true) this.clear();
  }

  private scheduleCheck(ms: number): void {
    const set = this.opts.setTimeout ?? ((fn, t) => setTimeout(fn, t));
    this.timer = set(() => {
      this.timer = undefined;
      void this.check();
    }, ms);
  }

  private cancelCheck(): void {
    if (this.timer === undefined) return;
    (this.opts.clearTimeout ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>)))(this.timer);
    this.timer = undefined;
  }

  /** Asks every region for the state; clears the refusal if the followed one has its quorum. */
  private async check(): Promise<void> {
    if (!this.refusal || this.checking) return;
    this.checking = true;
    try {
      await this.routing.refresh();
    } catch {
      /* unreachable regions are part of the snapshot */
    } finally {
      this.checking = false;
    }
    if (!this.refusal) return;
    if (followedQuorum(this.routing.snapshot) === true) return this.clear();
    this.refusal.delayMs = Math.min(this.opts.maxCheckMs ?? 15_000, this.refusal.delayMs * 2);
    if (this.unsubscribe) this.scheduleCheck(this.refusal.delayMs);
  }

  private clear(): void {
    this.cancelCheck();
    this.refusal = undefined;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
