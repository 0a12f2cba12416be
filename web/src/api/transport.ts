/**
 * @module How the app's API calls travel: through the routing client to the writer
 * region (reads fall back to another region), or to one named region or the edge;
 * with the bearer token; every failure turned into an ApiError.
 */
import type { RoutingClient } from '../../../src/routing/client/index.js';
import { ApiError, errorFrom, networkError } from './errors';

export interface TokenSource {
  token(): string | undefined;
  /** Called when a signed-in call is answered 401: the session is over. */
  onUnauthorized(): void;
}

export interface CallInit {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  signal?: AbortSignal;
  /** Default true. */
  auth?: boolean;
  timeoutMs?: number;
  /** Whether a 401 ends the session (default true; false for the edge's optional routes). */
  endsSession?: boolean;
  /** Try another region if the writer cannot be reached (default: reads only). */
  fallback?: boolean;
}

export class Transport {
  constructor(
    readonly routing: RoutingClient,
    private readonly tokens: TokenSource,
    /** Told of every write a server refused (the app watches for 503 `no_quorum`). */
    private readonly onRefusal?: (err: ApiError) => void,
  ) {}

  /** Passes a server's refusal of a write on to `onRefusal`; returns it, to be thrown. */
  refusal(err: ApiError): ApiError {
    this.onRefusal?.(err);
    return err;
  }

  token(): string | undefined {
    return this.tokens.token();
  }

  /** A call to the writer region, answered as a Response (ok), else thrown. */
  async send(path: string, init: CallInit = {}): Promise<Response> {
    const req = this.requestInit(init);
    let res: Response;
    try {
      res = await this.routing.request(path, req, init.fallback !== undefined ? { fallback: init.fallback } : {});
    } catch (err) {
      throw networkError(err);
    }
    return this.check(res, init);
  }

  async json<T>(path: string, init: CallInit = {}): Promise<T> {
    return readJson<T>(await this.send(path, init));
  }

  /** A call to one given base URL (a region, or '' for the edge), bypassing the routing. */
  async at<T>(baseUrl: string, path: string, init: CallInit = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(baseUrl + path, this.requestInit(init));
    } catch (err) {
      throw networkError(err);
    }
    return readJson<T>(await this.check(res, init));
  }

  private requestInit(init: CallInit): RequestInit {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.tokens.token();
    if (init.auth !== false && token) headers.authorization = `Bearer ${token}`;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const signals = [init.signal, init.timeoutMs ? AbortSignal.timeout(init.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => !!s,
    );
    return {
      method: init.method ?? 'GET',
      headers,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      ...(signals.length ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
    };
  }

  private async check(res: Response, init: CallInit): Promise<Response> {
    if (res.ok) return res;
    const err = await errorFrom(res);
    if (res.status === 401 && init.auth !== false && init.endsSession !== false) this.tokens.onUnauthorized();
    const method = (init.method ?? 'GET').toUpperCase();
    throw method === 'GET' || method === 'HEAD' ? err : this.refusal(err);
  }
}

async function readJson<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError('invalid_response', 'the server sent an answer that is not JSON', res.status);
  }
}
