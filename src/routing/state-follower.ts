/**
 * @module Keeps this region's state record in step with the control plane's register:
 * reads it at start (until a majority answers), then every interval, and at once when
 * told the register may have moved (a peer's announcement, a newer epoch seen in a
 * batch, a lease renewal refused for a newer epoch). A claim from a peer is only ever
 * a reason to read the register, never a record to adopt.
 */
import type { Logger } from 'pino';
import type { StateService } from './state.service.js';

export const FOLLOW_INTERVAL_MS = 1000;

export class StateFollower {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastOkAt = 0;
  private lastError: string | undefined;
  private firstAttempt: Promise<void> | undefined;
  /** The quorum last told to `onQuorumChange` (none before the first read). */
  private told = false;

  constructor(
    private readonly deps: {
      appId: string;
      state: StateService;
      logger: Logger;
      intervalMs?: number;
      /** Told when the quorum is lost or regained. */
      onQuorumChange?: (quorum: boolean) => void;
    },
  ) {}

  /** Starts following; resolves after the first read, whether or not a majority answered. */
  start(): Promise<void> {
    this.firstAttempt ??= this.refresh();
    return this.firstAttempt;
  }

  /** The register may have moved: read it now (once more if a read is under way). */
  hint(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else void this.refresh();
  }

  /** Whether the last read of the register reached a majority recently. */
  get quorum(): boolean {
    return this.lastOkAt > 0 && Date.now() - this.lastOkAt < 3 * this.interval;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private get interval(): number {
    return this.deps.intervalMs ?? FOLLOW_INTERVAL_MS;
  }

  private refresh(): Promise<void> {
    this.running ??= this.readOnce().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.running;
  }

  private async readOnce(): Promise<void> {
    const { appId, state, logger } = this.deps;
    const before = state.get(appId);
    try {
      const record = await state.refresh(appId);
      this.lastOkAt = Date.now();
      this.lastError = undefined;
      if (before?.epoch !== record.epoch) {
        logger.info(
          { state: record.state, activeRegion: record.activeRegion, epoch: record.epoch },
          'read a new state from the voters',
        );
      }
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastError) logger.warn({ err: message }, 'could not read the state from the voters');
      this.lastError = message;
    } finally {
      // Compared with what was told last, not with the quorum when this read began: the
      // quorum also lapses by the clock between two failed reads, and that must be told too.
      const quorum = this.quorum;
      if (quorum !== this.told) {
        this.told = quorum;
        this.deps.onQuorumChange?.(quorum);
      }
      clearTimeout(this.timer);
      if (!this.stopped) {
        this.timer = setTimeout(() => this.hint(), this.interval);
        this.timer.unref();
      }
    }
  }
}
