/**
 * @module Signed HTTP calls from one region to another (and from the operator's CLI,
 * which holds the same key), over node:http with keep-alive connections. Object
 * bodies are piped with backpressure, never held in memory (Node 20's fetch buffers a
 * streamed request body whole). The shipper's batches are `pipelined`: sent one after
 * the other on a few connections per peer (undici's Pool, HTTP/1.1 pipelining) without
 * waiting for the answers, which come back in order: a stream of batches on a long
 * link, in as few connections as a peer's per-address cap is happy with. Every answer must carry the replication key's
 * signature bound to the request's nonce (src/peers/peer-auth.ts): an unsigned or
 * forged success is refused, an unsigned failure is a failure whose body is not trusted.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import {
  EMPTY_SHA256,
  isPeerResponseSigned,
  type KeyRing,
  keyRing,
  PEER_HEADERS,
  sha256Hex,
  signPeerRequest,
} from './peer-auth.js';

export class PeerRequestError extends Error {
  constructor(
    message: string,
    /** The answer's status, when the answer was signed (null: no answer, or one not to be trusted). */
    readonly status: number | null,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** A body already serialised as JSON (sent as is, not stringified again). */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface PeerCallOptions {
  timeoutMs?: number;
  /** A streamed body whose SHA-256 is known in advance (object bodies). */
  stream?: { body: Readable; sha256: string; size: number };
  signal?: AbortSignal;
  /** Sent on the peer's pipelined connections, without waiting for the answers before it (an idempotent request). */
  pipelined?: boolean;
}

/** Pipelined connections per peer, and requests each may have unanswered (the shipper's window is their product). */
export const PIPELINED_CONNECTIONS = 2;
export const PIPELINE_DEPTH = 128;

let pipelineCa: Buffer | string | undefined;

/** The CA HTTPS peers are verified against (trustPeerCa), undefined: the system's. */
export function trustedPeerCa(): Buffer | string | undefined {
  return pipelineCa;
}
const pools = new Map<string, Pool>();

function poolFor(url: URL): Pool {
  let pool = pools.get(url.origin);
  if (!pool) {
    pool = new Pool(url.origin, {
      connections: PIPELINED_CONNECTIONS,
      pipelining: PIPELINE_DEPTH,
      keepAliveTimeout: 60_000,
      ...(url.protocol === 'https:' && pipelineCa ? { connect: { ca: pipelineCa } } : {}),
    });
    pools.set(url.origin, pool);
  }
  return pool;
}

/**
 * Connections to one peer: the shipper's window of batches in flight (32,
 * src/replication/ship-window.ts), its body streams, and the control plane's calls.
 */
const SOCKETS_PER_PEER = 48;

const agents = {
  'http:': new http.Agent({ keepAlive: true, noDelay: true, maxSockets: SOCKETS_PER_PEER }),
  'https:': new https.Agent({ keepAlive: true, noDelay: true, maxSockets: SOCKETS_PER_PEER }),
};

/**
 * HTTPS peers are verified against this CA (PEM; the configuration's tls.caFile) and
 * no other, from now on, for every PeerClient of this process. Undefined: the system's CAs.
 */
export function trustPeerCa(ca: Buffer | string | undefined): void {
  const previous = agents['https:'];
  agents['https:'] = new https.Agent({
    keepAlive: true,
    noDelay: true,
    maxSockets: SOCKETS_PER_PEER,
    ...(ca ? { ca } : {}),
  });
  previous.destroy();
  pipelineCa = ca;
  for (const pool of pools.values()) void pool.destroy().catch(() => undefined);
  pools.clear();
}

export class PeerClient {
  private readonly keys: KeyRing;

  constructor(
    /** The replication key, or the ring of keys in force (the first signs). */
    key: string | KeyRing,
    /** The calling region's name (the CLI signs as "operator"). */
    private readonly self: string,
  ) {
    this.keys = keyRing(key);
  }

  async call<T>(
    baseUrl: string,
    method: string,
    path: string,
    json?: unknown,
    options: PeerCallOptions = {},
  ): Promise<T> {
    const text = json === undefined ? undefined : json instanceof RawJson ? json.text : JSON.stringify(json);
    const contentSha256 = options.stream ? options.stream.sha256 : text === undefined ? EMPTY_SHA256 : sha256Hex(text);
    const headers: Record<string, string> = signPeerRequest(this.keys[0], {
      method,
      path,
      region: this.self,
      contentSha256,
    });
    if (options.stream) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(options.stream.size);
    } else if (text !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    const what = `${method} ${baseUrl}${path}`;
    const url = new URL(path, baseUrl);
    const sent =
      options.pipelined && !options.stream
        ? sendPipelined(url, method, headers, text, options)
        : send(url, method, headers, text, options);
    const { status, raw, signature } = await sent.catch((err: Error) => {
      throw new PeerRequestError(`${what}: ${describeFetchError(err)}`, null, null);
    });
    const signed = isPeerResponseSigned(this.keys, headers[PEER_HEADERS.nonce]!, status, raw, signature);
    const textOf = raw.toString('utf8');
    let parsed: unknown = textOf;
    try {
      parsed = textOf ? JSON.parse(textOf) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    const message = (parsed as { error?: { message?: string } })?.error?.message ?? textOf.slice(0, 200);
    if (!signed) {
      // Nothing in it is trusted: a success is refused, a failure keeps only its words for the operator.
      const why = signature ? 'a forged signature' : 'no signature';
      throw new PeerRequestError(
        status >= 200 && status < 300
          ? `${what}: refused an answer with ${why} (not from a region holding the replication key)`
          : `${what}: ${status} ${message} (answer with ${why})`,
        null,
        null,
      );
    }
    if (status < 200 || status >= 300) {
      throw new PeerRequestError(`${what}: ${status} ${message}`, status, parsed);
    }
    return parsed as T;
  }
}

/** An answer as it came, before its signature is checked. */
interface RawAnswer {
  status: number;
  raw: Buffer;
  signature: string | undefined;
}

type Send = (
  url: URL,
  method: string,
  headers: Record<string, string>,
  text: string | undefined,
  options: PeerCallOptions,
) => Promise<RawAnswer>;

const send: Send = (url, method, headers, text, options) => {
  const transport = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method, headers, agent });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })),
      options.timeoutMs ?? 10_000,
    );
    const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (err) => {
      done();
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        done();
        reject(err);
      });
      res.on('end', () => {
        done();
        const signature = res.headers[PEER_HEADERS.responseSignature];
        resolve({
          status: res.statusCode ?? 0,
          raw: Buffer.concat(chunks),
          signature: typeof signature === 'string' ? signature : undefined,
        });
      });
    });
    if (options.stream) {
      // An early answer (a refusal) may end the request before the body is sent: that is not our error.
      pipeline(options.stream.body, req).catch(() => undefined);
    } else {
      req.end(text);
    }
  });
};

const sendPipelined: Send = async (url, method, headers, text, options) => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const res = await poolFor(url).request({
      path: url.pathname + url.search,
      method: method as 'POST',
      headers,
      body: text ?? null,
      signal,
      idempotent: true,
      blocking: false,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const raw = Buffer.from(await res.body.arrayBuffer());
    const signature = res.headers[PEER_HEADERS.responseSignature];
    return { status: res.statusCode, raw, signature: typeof signature === 'string' ? signature : undefined };
  } catch (err) {
    if (timeout.aborted) throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    throw err;
  }
};

export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (e?.code) return e.code;
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(err);
}
