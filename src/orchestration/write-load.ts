/**
 * @module A client's write load for drills: comments posted at a steady rate through
 * the routing client (so it follows the writer as a real client does), each
 * acknowledged write remembered with the region that acknowledged it.
 */
import type { RoutingClient } from '../routing/client/index.js';

export interface AckedWrite {
  commentId: string;
  message: string;
  region: string;
  at: number;
}

export interface WriteLoadOptions {
  client: RoutingClient;
  photoId: string;
  /** A bearer token of the user the writes are made as. */
  token: string;
  /** Writes a second. */
  rate: number;
  /** Prefix of every message, unique to this run. */
  tag: string;
  regionOfUrl: (url: string) => string;
  maxInFlight?: number;
  timeoutMs?: number;
  now?: () => number;
}

export class WriteLoad {
  readonly acked: AckedWrite[] = [];
  readonly errors = new Map<string, number>();
  attempted = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: WriteLoadOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stop issuing writes and wait for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  /** The first write acknowledged by `region` at or after `since`. */
  firstAckAfter(since: number, region: string): AckedWrite | undefined {
    return this.acked.find((a) => a.at >= since && a.region === region);
  }

  errorCounts(): Array<{ code: string; count: number }> {
    return [...this.errors].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async run(): Promise<void> {
    const period = 1000 / this.opts.rate;
    const t0 = this.now();
    for (let n = 0; this.running; n++) {
      const due = t0 + n * period;
      const wait = due - this.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.running) break;
      if (this.inFlight.size >= (this.opts.maxInFlight ?? 64)) {
        this.count('client_overloaded');
        continue;
      }
      const p = this.write(n).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async write(n: number): Promise<void> {
    this.attempted++;
    const message = `${this.opts.tag}-${n}`;
    try {
      const res = await this.opts.client.request(`/comments/${this.opts.photoId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.token}` },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      if (res.status === 201) {
        const body = (await res.json()) as { commentId: string };
        this.acked.push({ commentId: body.commentId, message, region: this.opts.regionOfUrl(res.url), at: this.now() });
        return;
      }
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      this.count(body.error?.code ?? `http_${res.status}`);
    } catch (err) {
      this.count((err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable');
    }
  }

  private count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
