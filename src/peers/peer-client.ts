/**
 * @module Signed HTTP calls from one region to another (and from the operator's CLI,
 * which holds the same key). Connections are pooled and kept alive by Node's fetch.
 */
import type { Readable } from 'node:stream';
import { EMPTY_SHA256, sha256Hex, signPeerRequest } from './peer-auth.js';

export class PeerRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export interface PeerCallOptions {
  timeoutMs?: number;
  /** A streamed body whose SHA-256 is known in advance (object bodies). */
  stream?: { body: Readable; sha256: string; size: number };
  signal?: AbortSignal;
}

export class PeerClient {
  constructor(
    private readonly key: string,
    /** The calling region's name (the CLI signs as "operator"). */
    private readonly self: string,
  ) {}

  async call<T>(baseUrl: string, method: string, path: string, json?: unknown, options: PeerCallOptions = {}): Promise<T> {
    const text = json === undefined ? undefined : JSON.stringify(json);
    const contentSha256 = options.stream ? options.stream.sha256 : text === undefined ? EMPTY_SHA256 : sha256Hex(text);
    const headers: Record<string, string> = signPeerRequest(this.key, { method, path, region: this.self, contentSha256 });
    let body: BodyInit | undefined;
    if (options.stream) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(options.stream.size);
      // Passed as an async iterable: fetch pulls chunks as it sends them (backpressure).
      body = options.stream.body as unknown as BodyInit;
    } else if (text !== undefined) {
      headers['content-type'] = 'application/json';
      body = text;
    }
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000), ...(options.signal ? [options.signal] : [])];
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.stream ? { duplex: 'half' } : {}),
        signal: AbortSignal.any(signals),
      } as RequestInit);
    } catch (err) {
      throw new PeerRequestError(`${method} ${baseUrl}${path}: ${describeFetchError(err)}`, null, null);
    }
    const raw = await res.text();
    let parsed: unknown = raw;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    if (!res.ok) {
      const message = (parsed as { error?: { message?: string } })?.error?.message ?? raw.slice(0, 200);
      throw new PeerRequestError(`${method} ${baseUrl}${path}: ${res.status} ${message}`, res.status, parsed);
    }
    return parsed as T;
  }
}

export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(err);
}
