/**
 * @module The sending end of the batch stream (DESIGN §5): one WebSocket per peer,
 * opened on the first batch by a signed request, trusted only once its 101 carries the
 * replication key's signature over that request's nonce; then every batch is a sealed
 * frame (src/peers/stream-frames.ts) sent at once, whatever is in flight, and every
 * answer is matched to its batch by id. Batches and answers keep their order on the one
 * connection, so a receiver never waits for a batch that was overtaken.
 *
 * Failure is the connection's: a frame that fails its MAC, an answer not back within
 * its batch's timeout, or a closed socket fails every batch in flight (the shipper
 * rewinds to where the peer is, as for a lost batch) and the next batch opens a new
 * connection. A peer that answers the upgrade with anything but 101 or 401 (404 from a
 * version without the stream; 400, 426 or 502 from a proxy on the way that does not pass
 * upgrades) is sent batches as HTTP requests (`StreamUnsupported`) for
 * `RETRY_UNSUPPORTED_MS`; a 401 is a refusal, like any unsigned request's.
 */
import WebSocket, { type RawData } from 'ws';
import {
  EMPTY_SHA256,
  isPeerResponseSigned,
  type KeyRing,
  keyRing,
  PEER_HEADERS,
  signPeerRequest,
} from './peer-auth.js';
import { PeerRequestError, trustedPeerCa } from './peer-client.js';
import { connectionKey, FrameOpener, FrameSealer, STREAM_PATH } from './stream-frames.js';

/** How long a peer that has no stream (answered 404) is sent HTTP requests before it is tried again. */
export const RETRY_UNSUPPORTED_MS = 60_000;
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The peer has no batch stream: send the batch another way. */
export class StreamUnsupported extends Error {
  constructor(url: string, status: number) {
    super(`${url}: no batch stream (the upgrade was answered ${status})`);
    this.name = 'StreamUnsupported';
  }
}

interface Pending {
  resolve(body: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  cleanup(): void;
}

interface Answer {
  id: number;
  status: number;
  body: unknown;
}

/** One connection to one peer. */
class Connection {
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private readonly nonce: string;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  closed = false;

  constructor(
    private readonly what: string,
    url: URL,
    keys: KeyRing,
    self: string,
    timeoutMs: number,
    onUnsupported: (status: number) => void,
    private readonly onClosed: (c: Connection) => void,
  ) {
    const headers = signPeerRequest(keys[0], {
      method: 'GET',
      path: STREAM_PATH,
      region: self,
      contentSha256: EMPTY_SHA256,
    });
    this.nonce = headers[PEER_HEADERS.nonce]!;
    const ca = url.protocol === 'wss:' ? trustedPeerCa() : undefined;
    this.ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      maxPayload: MAX_ANSWER_BYTES,
      handshakeTimeout: timeoutMs,
      followRedirects: false,
      ...(ca ? { ca } : {}),
    });
    let trusted = false;
    this.ready = new Promise<void>((resolve, reject) => {
      this.ws.on('upgrade', (res) => {
        const signature = res.headers[PEER_HEADERS.responseSignature];
        trusted = isPeerResponseSigned(
          keys,
          this.nonce,
          101,
          '',
          typeof signature === 'string' ? signature : undefined,
        );
        if (trusted) {
          const key = connectionKey(keys[0], this.nonce);
          this.sealer = new FrameSealer(key, 'batches');
          this.opener = new FrameOpener(key, 'answers');
        }
      });
      this.ws.on('open', () => {
        if (trusted) return resolve();
        reject(
          new PeerRequestError(
            `${this.what}: refused a stream whose 101 is not signed with the replication key`,
            null,
            null,
          ),
        );
        this.fail(new Error('untrusted'));
      });
      this.ws.on('unexpected-response', (req, res) => {
        res.resume();
        req.destroy();
        if (res.statusCode === 401) {
          reject(new PeerRequestError(`${this.what}: ${res.statusCode} (stream refused)`, null, null));
        } else {
          // No stream there (404 from an older version), or something on the way that does not pass upgrades.
          onUnsupported(res.statusCode ?? 0);
          reject(new StreamUnsupported(this.what, res.statusCode ?? 0));
        }
        this.fail(new Error('refused'));
      });
      this.ws.on('error', (err) => {
        reject(new PeerRequestError(`${this.what}: ${describe(err)}`, null, null));
        this.fail(err);
      });
      this.ws.on('close', () => {
        reject(new PeerRequestError(`${this.what}: connection closed`, null, null));
        this.fail(new Error('connection closed'));
      });
    });
    this.ready.catch(() => undefined);
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
  }

  send(batchText: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.closed || !this.sealer) {
      return Promise.reject(new PeerRequestError(`${this.what}: connection closed`, null, null));
    }
    if (signal?.aborted) return Promise.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        this.pending.get(id)?.cleanup();
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      };
      const pending: Pending = {
        resolve,
        reject,
        // An answer this late: the stream is stuck, and everything behind it with it.
        timer: setTimeout(() => this.fail(new PeerRequestError(`${this.what}: timed out`, null, null)), timeoutMs),
        cleanup: () => {
          clearTimeout(pending.timer);
          signal?.removeEventListener('abort', onAbort);
          this.pending.delete(id);
        },
      };
      this.pending.set(id, pending);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.ws.send(this.sealer!.seal(`{"id":${id},"batch":${batchText}}`), { binary: true }, (err) => {
        if (err) this.fail(err);
      });
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!this.opener || !isBinary || !Buffer.isBuffer(data)) {
      this.fail(new Error('a frame that is not binary'));
      return;
    }
    let answer: Answer;
    try {
      answer = JSON.parse(this.opener.open(data)) as Answer;
    } catch (err) {
      this.fail(new PeerRequestError(`${this.what}: ${(err as Error).message}`, null, null));
      return;
    }
    if (typeof answer !== 'object' || answer === null || typeof answer.status !== 'number') {
      this.fail(new PeerRequestError(`${this.what}: an answer that is not {id, status, body}`, null, null));
      return;
    }
    const pending = this.pending.get(answer.id);
    if (!pending) return; // its batch was aborted
    pending.cleanup();
    if (answer.status >= 200 && answer.status < 300) {
      pending.resolve(answer.body);
      return;
    }
    const message = (answer.body as { error?: { message?: string } })?.error?.message ?? '';
    pending.reject(new PeerRequestError(`${this.what}: ${answer.status} ${message}`, answer.status, answer.body));
  }

  /** Fails every batch in flight and closes the connection (the next batch opens another). */
  fail(err: Error): void {
    const reason =
      err instanceof PeerRequestError ? err : new PeerRequestError(`${this.what}: ${describe(err)}`, null, null);
    if (!this.closed) {
      this.closed = true;
      this.ws.terminate();
      this.onClosed(this);
    }
    for (const p of [...this.pending.values()]) {
      p.cleanup();
      p.reject(reason);
    }
  }
}

function describe(err: Error): string {
  const e = err as Error & { code?: string };
  return e.code ?? e.message;
}

/** The batch streams of one region to its peers, by peer URL. */
export class BatchStreams {
  private readonly keys: KeyRing;
  private readonly connections = new Map<string, Connection>();
  private readonly unsupportedUntil = new Map<string, number>();
  private stopped = false;

  private readonly now: () => number;
  /** Peers whose batches go as HTTP requests now (told once when that starts, once when the stream works again). */
  private readonly fellBack = new Set<string>();

  constructor(
    key: string | KeyRing,
    private readonly self: string,
    private readonly options: {
      now?: () => number;
      /** Told when batches to a peer start going as HTTP requests (its upgrade answered `status`), and when the stream works again (null). */
      onFallback?: (baseUrl: string, status: number | null) => void;
    } = {},
  ) {
    this.keys = keyRing(key);
    this.now = options.now ?? Date.now;
  }

  /** Whether batches to `baseUrl` go by the stream (false for a while after its upgrade was answered but not taken). */
  available(baseUrl: string): boolean {
    const until = this.unsupportedUntil.get(baseUrl);
    return !this.stopped && (until === undefined || this.now() >= until);
  }

  /** Sends one batch (its JSON text) and resolves with the peer's verified answer body. */
  async send(baseUrl: string, batchText: string, options: { timeoutMs: number; signal?: AbortSignal }) {
    if (this.stopped) throw new PeerRequestError(`stream ${baseUrl}${STREAM_PATH}: stopped`, null, null);
    const connection = this.connection(baseUrl, options.timeoutMs);
    await connection.ready;
    if (this.fellBack.delete(baseUrl)) this.options.onFallback?.(baseUrl, null);
    return connection.send(batchText, options.timeoutMs, options.signal);
  }

  /** Closes every stream (the region is stopping). */
  close(): void {
    this.stopped = true;
    for (const c of [...this.connections.values()]) c.fail(new Error('stopping'));
  }

  private connection(baseUrl: string, timeoutMs: number): Connection {
    const known = this.connections.get(baseUrl);
    if (known && !known.closed) return known;
    const url = new URL(STREAM_PATH, baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const connection = new Connection(
      `stream ${baseUrl}${STREAM_PATH}`,
      url,
      this.keys,
      this.self,
      timeoutMs,
      (status) => {
        this.unsupportedUntil.set(baseUrl, this.now() + RETRY_UNSUPPORTED_MS);
        if (!this.fellBack.has(baseUrl)) this.options.onFallback?.(baseUrl, status);
        this.fellBack.add(baseUrl);
      },
      (c) => {
        if (this.connections.get(baseUrl) === c) this.connections.delete(baseUrl);
      },
    );
    this.connections.set(baseUrl, connection);
    return connection;
  }
}
