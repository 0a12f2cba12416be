/**
 * @module One region's live state stream (`GET /state/{appId}/events`). The client
 * reconnects itself, with exponential backoff, instead of relying on EventSource's own
 * retry: a stream that failed with an HTTP error is never retried by the browser, and
 * a region that is down should not be asked every second.
 */
import { asStateRecord } from './records.js';
import type { EventSourceConstructor, EventSourceLike, StateRecord } from './types.js';

export interface BackoffOptions {
  /** First delay after a drop (default 500 ms); doubled on each failed attempt. */
  initialMs?: number;
  /** Upper bound of the delay (default 15 000 ms). */
  maxMs?: number;
}

export interface RegionStreamOptions extends BackoffOptions {
  url: string;
  EventSource: EventSourceConstructor;
  onRecord: (record: StateRecord) => void;
  onConnected: (connected: boolean) => void;
}

export const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 15_000 } as const;

export class RegionStream {
  private source: EventSourceLike | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private closed = false;
  private connected = false;

  constructor(private readonly opts: RegionStreamOptions) {}

  /** Opens the stream now (or after the current backoff, if one is pending). */
  start(): void {
    if (this.closed || this.source || this.timer) return;
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.source?.close();
    this.source = undefined;
    this.setConnected(false);
  }

  /** How many connections in a row have failed (0 while connected). */
  get failureCount(): number {
    return this.failures;
  }

  private connect(): void {
    let source: EventSourceLike;
    try {
      source = new this.opts.EventSource(this.opts.url);
    } catch {
      this.scheduleReconnect(); // an invalid URL: keep the backoff, never a tight loop
      return;
    }
    this.source = source;
    const live = () => this.source === source && !this.closed;
    source.addEventListener('open', () => {
      if (!live()) return;
      this.failures = 0;
      this.setConnected(true);
    });
    source.addEventListener('state', (event) => {
      if (!live()) return;
      this.failures = 0;
      this.setConnected(true);
      const record = parse(event.data);
      if (record) this.opts.onRecord(record);
    });
    source.addEventListener('error', () => {
      if (!live()) return;
      source.close();
      this.source = undefined;
      this.setConnected(false);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const initial = this.opts.initialMs ?? DEFAULT_BACKOFF.initialMs;
    const max = this.opts.maxMs ?? DEFAULT_BACKOFF.maxMs;
    const base = Math.min(max, initial * 2 ** this.failures);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.failures++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.connect();
    }, delay);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.opts.onConnected(connected);
  }
}

function parse(data: unknown): StateRecord | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    return asStateRecord(JSON.parse(data));
  } catch {
    return undefined;
  }
}
