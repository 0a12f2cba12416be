/**
 * @module The receiving end of the batch stream (DESIGN §5): `GET
 * /internal/replication/stream` upgraded to a WebSocket once its signature is checked
 * from the headers (as every inter-region request, src/peers/peer.routes.ts), and the
 * 101 signed over its nonce. Then each frame (src/peers/stream-frames.ts) is a batch
 * of the signing region's log, `{"id", "batch"}`, handed to `receive` (validated and
 * applied in order, as `POST /internal/replication/batch` does) and answered by a
 * frame `{"id", "status", "body"}` as soon as it is applied, without waiting for the
 * ones after it. A frame that fails its MAC, or is not JSON of that shape, closes the
 * connection; nothing of it is applied. A connection silent for `IDLE_MS` while none of
 * its batches is being applied is closed too (the shipper sends an empty batch every
 * second when it has nothing else to send).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { DomainError } from '../core/errors.js';
import { STATUS_BY_CODE } from '../http/error-handler.js';
import { JSON_MAX_DEPTH, jsonDepthExceeds } from '../http/json-body.js';
import { isRefused } from '../http/limits.js';
import { EMPTY_SHA256, PEER_HEADERS, type PeerVerifier, type VerifiedPeer } from './peer-auth.js';
import { connectionKey, FrameOpener, FrameSealer, STREAM_PATH } from './stream-frames.js';

/** A stream with no frame for this long is closed (its sender heartbeats every second). */
export const IDLE_MS = 30_000;
/** The largest frame taken: the batch route's body limit, plus the MAC and the envelope. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 1024;

export interface BatchStreamDeps {
  verifier: Pick<PeerVerifier, 'verify' | 'signResponse'>;
  /** Validates and applies one batch from `region` (the region that signed the opening request); throws DomainError when refused. */
  receive(region: string, batch: unknown): Promise<unknown>;
  logger: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  idleMs?: number;
}

export function batchStreamRoutes(app: FastifyInstance, deps: BatchStreamDeps): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const verified = new WeakMap<IncomingMessage, VerifiedPeer>();
  wss.on('headers', (headers, request) => {
    const peer = verified.get(request);
    if (peer) headers.push(`${PEER_HEADERS.responseSignature}: ${deps.verifier.signResponse(peer, 101, '')}`);
  });
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isRefused(socket as never)) {
      socket.destroy();
      return;
    }
    const path = (request.url ?? '').split('?')[0];
    if (path !== STREAM_PATH) {
      refuse(socket, new DomainError('not_found', `no stream at ${path}`));
      return;
    }
    let peer: VerifiedPeer;
    try {
      peer = deps.verifier.verify({
        method: request.method ?? 'GET',
        path: request.url ?? '',
        headers: request.headers,
      });
      if (peer.contentSha256 !== EMPTY_SHA256)
        throw new DomainError('unauthenticated', 'a stream is opened by a request without a body');
    } catch (err) {
      refuse(socket, err instanceof DomainError ? err : new DomainError('unauthenticated', 'bad signature'));
      return;
    }
    verified.set(request, peer);
    wss.handleUpgrade(request, socket, head, (ws) => serve(ws, peer, deps));
  });
  app.addHook('preClose', async () => {
    for (const ws of wss.clients) ws.terminate();
  });
}

/** An upgrade refused: a plain HTTP answer, then the connection closed. */
function refuse(socket: Duplex, err: DomainError): void {
  const status = STATUS_BY_CODE[err.code] ?? 400;
  const body = JSON.stringify({ error: { code: err.code, message: err.message } });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${err.code}\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  setTimeout(() => socket.destroy(), 1000).unref();
}

function serve(ws: WebSocket, peer: VerifiedPeer, deps: BatchStreamDeps): void {
  const key = connectionKey(peer.key, peer.nonce);
  const opener = new FrameOpener(key, 'batches');
  const sealer = new FrameSealer(key, 'answers');
  const idleMs = deps.idleMs ?? IDLE_MS;
  let applying = 0;
  // Silent for idleMs with nothing being applied: the sender is gone (it heartbeats every second).
  const idle: NodeJS.Timeout = setTimeout(function expire() {
    if (applying > 0) idle.refresh();
    else ws.terminate();
  }, idleMs);
  const drop = (why: string) => {
    deps.logger.warn({ region: peer.region, why }, 'replication: batch stream closed');
    ws.terminate();
  };
  ws.on('message', (data: RawData, isBinary: boolean) => {
    idle.refresh();
    if (!isBinary || !Buffer.isBuffer(data)) {
      drop('a frame that is not binary');
      return;
    }
    let text: string;
    try {
      text = opener.open(data);
    } catch (err) {
      drop((err as Error).message);
      return;
    }
    const message = envelope(text);
    if (!message) {
      drop('a frame that is not {"id", "batch"}');
      return;
    }
    void answer(message.id, message.batch);
  });
  ws.on('close', () => clearTimeout(idle));
  ws.on('error', () => ws.terminate());

  async function answer(id: number, batch: unknown): Promise<void> {
    let status = 200;
    let body: unknown;
    applying++;
    try {
      body = await deps.receive(peer.region, batch);
    } catch (err) {
      const known = err instanceof DomainError ? err : undefined;
      if (!known) deps.logger.error({ err, region: peer.region }, 'replication: a streamed batch failed');
      status = known ? (STATUS_BY_CODE[known.code] ?? 400) : 500;
      body = {
        error: known ? { code: known.code, message: known.message } : { code: 'internal', message: 'internal error' },
      };
    } finally {
      applying--;
    }
    if (ws.readyState !== ws.OPEN) return;
    ws.send(sealer.seal(JSON.stringify({ id, status, body })), { binary: true });
  }
}

/** The frame's text as `{id, batch}`, or null when it is not that (or nests deeper than any batch). */
function envelope(text: string): { id: number; batch: unknown } | null {
  if (jsonDepthExceeds(text, JSON_MAX_DEPTH + 1)) return null;
  let parsed: unknown;
  try {
    parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return null;
  }
  const m = parsed as { id?: unknown; batch?: unknown } | null;
  if (!m || typeof m !== 'object' || !Number.isSafeInteger(m.id) || (m.id as number) < 0) return null;
  if (typeof m.batch !== 'object' || m.batch === null) return null;
  return { id: m.id as number, batch: m.batch };
}
