/**
 * @module The routing client: which region takes writes, kept live. It asks every
 * region for the state record, keeps the newest (highest epoch wins), follows every
 * region's event stream, and sends calls to the writer, retrying once elsewhere when
 * a region answers 421 `not_active_region`. Framework-free: any application can use it.
 */
import { asStateRecord, compareRecords, isNewer } from './records.js';
import { type BackoffOptions, RegionStream } from './region-stream.js';
import type {
  AppConfig,
  EventSourceConstructor,
  RegionConfig,
  RegionView,
  RoutingListener,
  RoutingSnapshot,
  StateRecord,
} from './types.js';

export interface RoutingClientOptions {
  /** The configuration; when absent it is loaded from `configUrl`. */
  config?: AppConfig;
  /** Default `/config.json` (the edge serves it beside the web app). */
  configUrl?: string;
  fetch?: typeof fetch;
  /** The EventSource implementation; default the global one; `null` for no live updates. */
  EventSource?: EventSourceConstructor | null;
  /** How long one region may take to answer `GET /state` (default 3000 ms). */
  stateTimeoutMs?: number;
  /** Reconnection backoff of the event streams. */
  reconnect?: BackoffOptions;
}

export interface RequestOptions {
  /**
   * Try the other regions when the writer cannot be reached. Default: true for GET
   * and HEAD (reads work in every region), false otherwise.
   */
  fallback?: boolean;
}

export class RoutingClient {
  private readonly doFetch: typeof fetch;
  private readonly streams: RegionStream[] = [];
  private current: RoutingSnapshot = { status: 'loading', regions: [] };
  private readonly listeners = new Set<RoutingListener>();
  private started: Promise<RoutingSnapshot> | undefined;
  private closed = false;

  constructor(private readonly opts: RoutingClientOptions = {}) {
    this.doFetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Loads the configuration, asks every region, opens the streams. Idempotent. */
  start(): Promise<RoutingSnapshot> {
    this.started ??= this.init();
    return this.started;
  }

  get snapshot(): RoutingSnapshot {
    return this.current;
  }

  get record(): StateRecord | undefined {
    return this.current.record;
  }

  /** The writer's base URL (while fenced, the fenced writer's: it still serves reads). */
  get writerUrl(): string | undefined {
    return this.current.writer?.url;
  }

  regionUrl(name: string): string | undefined {
    return this.current.config?.regions.find((r) => r.name === name)?.url;
  }

  /** Called on every change of the snapshot (a newer record, a region's reachability). */
  subscribe(listener: RoutingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks every region now; resolves with the newest record (undefined if none answered). */
  async refresh(): Promise<StateRecord | undefined> {
    const config = this.current.config;
    if (!config) return (await this.start()).record;
    const timeoutMs = this.opts.stateTimeoutMs ?? 3000;
    await Promise.all(
      config.regions.map(async (region) => {
        try {
          const res = await this.doFetch(`${region.url}/state/${encodeURIComponent(config.appId)}`, {
            headers: { accept: 'application/json' },
            signal: AbortSignal.timeout(timeoutMs),
          });
          const record = res.ok ? asStateRecord(await res.json()) : undefined;
          this.updateRegion(region.name, { reachable: true }, record);
        } catch {
          this.updateRegion(region.name, { reachable: false });
        }
      }),
    );
    return this.current.record;
  }

  /**
   * Sends a call to the writer (`path` is relative to a region's URL). The body must be
   * replayable (string, Blob, ArrayBuffer, FormData): on 421 `not_active_region` the
   * state is refreshed and the call sent once more, to the `activeUrl` the region named.
   */
  async request(path: string, init: RequestInit = {}, options: RequestOptions = {}): Promise<Response> {
    await this.start();
    const method = (init.method ?? 'GET').toUpperCase();
    const fallback = options.fallback ?? (method === 'GET' || method === 'HEAD');
    const candidates = this.candidates(fallback);
    if (candidates.length === 0) throw new TypeError('no region is configured');
    let lastError: unknown;
    for (const base of fallback ? candidates : candidates.slice(0, 1)) {
      let res: Response;
      try {
        res = await this.doFetch(base + path, init);
      } catch (err) {
        if (init.signal?.aborted) throw err;
        lastError = err;
        continue;
      }
      if (res.status !== 421) return res;
      const activeUrl = await misdirectedTo(res.clone());
      await this.refresh();
      const retarget = activeUrl ?? this.writerUrl;
      if (!retarget || retarget === base) return res;
      return this.doFetch(retarget + path, init);
    }
    throw lastError;
  }

  close(): void {
    this.closed = true;
    for (const s of this.streams) s.close();
    this.streams.length = 0;
    this.listeners.clear();
  }

  private async init(): Promise<RoutingSnapshot> {
    let config = this.opts.config;
    if (!config) {
      try {
        const res = await this.doFetch(this.opts.configUrl ?? '/config.json', {
          headers: { accept: 'application/json' },
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        config = (await res.json()) as AppConfig;
        if (!config?.appId || !Array.isArray(config.regions)) throw new Error('not an application configuration');
      } catch (err) {
        this.set({
          ...this.current,
          status: 'error',
          error: `Could not load the configuration: ${(err as Error).message}`,
        });
        return this.current;
      }
    }
    const regions: RegionView[] = config.regions.map((r) => ({ ...r, reachable: undefined, streaming: false }));
    this.set({ status: 'ready', config, regions, writer: undefined, record: undefined });
    await this.refresh();
    if (!this.closed) this.openStreams(config);
    return this.current;
  }

  private openStreams(config: AppConfig): void {
    const EventSource =
      this.opts.EventSource === undefined
        ? (globalThis as { EventSource?: EventSourceConstructor }).EventSource
        : this.opts.EventSource;
    if (!EventSource) return;
    for (const region of config.regions) {
      const stream = new RegionStream({
        url: `${region.url}/state/${encodeURIComponent(config.appId)}/events`,
        EventSource,
        ...this.opts.reconnect,
        onRecord: (record) => this.updateRegion(region.name, { reachable: true }, record),
        onConnected: (streaming) =>
          this.updateRegion(region.name, streaming ? { streaming, reachable: true } : { streaming }),
      });
      this.streams.push(stream);
      stream.start();
    }
  }

  /**
   * Where to send a call: the writer first, then the primary, then the others; for
   * reads, the regions known to be unreachable go last (a dead host may not even
   * refuse the connection, it may just not answer).
   */
  private candidates(read: boolean): string[] {
    const writer = this.current.record?.activeRegion;
    const down = new Set(this.current.regions.filter((r) => r.reachable === false && !r.streaming).map((r) => r.name));
    const rank = (r: RegionConfig) =>
      (read && down.has(r.name) ? 0 : 4) + (r.name === writer ? 2 : r.role === 'primary' ? 1 : 0);
    return [...(this.current.config?.regions ?? [])].sort((a, b) => rank(b) - rank(a)).map((r) => r.url);
  }

  private updateRegion(name: string, patch: Partial<RegionView>, record?: StateRecord): void {
    if (this.closed) return;
    const regions = this.current.regions.map((r) => {
      if (r.name !== name) return r;
      // The same record again is no change, unless the region's quorum changed (it pushes that).
      const keep =
        !record ||
        (r.record &&
          compareRecords(record, r.record) === 0 &&
          record.state === r.record.state &&
          record.quorum === r.record.quorum);
      return { ...r, ...patch, ...(keep ? {} : { record }) };
    });
    let next: RoutingSnapshot = { ...this.current, regions };
    if (record && isNewer(record, this.current.record)) {
      const writer = this.current.config?.regions.find((r) => r.name === record.activeRegion);
      next = { ...next, record, writer };
    }
    const changed =
      regions.some((r, i) => !sameView(r, this.current.regions[i])) || next.record !== this.current.record;
    if (changed) this.set(next);
  }

  private set(next: RoutingSnapshot): void {
    this.current = next;
    for (const l of [...this.listeners]) l(next);
  }
}

function sameView(a: RegionView, b: RegionView | undefined): boolean {
  return !!b && a.reachable === b.reachable && a.streaming === b.streaming && a.record === b.record;
}

async function misdirectedTo(res: Response): Promise<string | undefined> {
  try {
    const body = (await res.json()) as { error?: { code?: string; activeUrl?: unknown } };
    if (body.error?.code !== 'not_active_region') return undefined;
    return typeof body.error.activeUrl === 'string' ? body.error.activeUrl.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}
