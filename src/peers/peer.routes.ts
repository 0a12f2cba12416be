/**
 * @module Inter-region endpoints under /internal, every one authenticated with the
 * replication key (src/peers/peer-auth.ts). Here: the announcement that the state
 * register has moved, which only makes this region read the register itself.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';
import { parseWith } from '../http/validation.js';
import { EMPTY_SHA256, PEER_HEADERS, type PeerVerifier, type VerifiedPeer } from './peer-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    peer?: VerifiedPeer;
  }
}

/**
 * Route options for an inter-region endpoint. An onRequest hook checks the signature
 * from the headers alone (method, path, timestamp, nonce, sending region, the body's
 * signed SHA-256) before a byte of the body is read: an unsigned, forged, stale or
 * replayed request is answered 401 at once and its connection closed, so a bad
 * signature costs the region almost nothing whatever the body's size. A preParsing
 * hook then hashes the body as it streams into the parser and fails it at its end
 * (401) when it is not the body that was signed. An onSend hook signs the answer to a
 * request it accepted (bound to that request's nonce). A refused request's answer is
 * not signed: the caller treats it as a failure and trusts nothing in it.
 */
export interface PeerRouteOptions {
  onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  preParsing: (request: FastifyRequest, reply: FastifyReply, payload: Readable) => Promise<Readable>;
  onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
}

export function peerRouteOptions(verifier: PeerVerifier): PeerRouteOptions {
  return {
    onRequest: async (request, reply) => {
      const withBody = hasBody(request.headers);
      try {
        request.peer = verifier.verify({ method: request.method, path: request.url, headers: request.headers });
      } catch (err) {
        // The body is not read: the connection closes once the answer is out.
        if (withBody) reply.header('connection', 'close');
        throw err;
      }
      if (!withBody && request.peer.contentSha256 !== EMPTY_SHA256) {
        request.peer = undefined;
        throw new DomainError('unauthenticated', 'inter-region request whose body does not match its signature');
      }
    },
    preParsing: async (request, _reply, payload) => {
      if (!request.peer || !hasBody(request.headers)) return payload;
      return new DigestCheck(request.peer.contentSha256, () => {
        request.peer = undefined;
      }).attach(payload);
    },
    onSend: async (request, reply, payload) => {
      if (!request.peer) return payload;
      const body = payload === null || payload === undefined ? '' : payload;
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) return payload; // a stream: left unsigned
      reply.header(PEER_HEADERS.responseSignature, verifier.signResponse(request.peer, reply.statusCode, body));
      return payload;
    },
  };
}

/** Whether a request carries a body (as Node's parser frames it: chunked, or a Content-Length above 0). */
function hasBody(headers: FastifyRequest['headers']): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * The body as it streams, passed on unchanged and hashed; at its end, an error (401)
 * instead of the end when its SHA-256 is not the signed one, so no parser or writer
 * takes a body nobody signed.
 */
class DigestCheck extends Transform {
  private readonly hash = createHash('sha256');
  /** For Fastify's own parsers: the bytes received so far. */
  receivedEncodedLength = 0;

  constructor(
    private readonly expected: string,
    private readonly onMismatch: () => void,
  ) {
    super();
  }

  attach(source: Readable): this {
    source.on('error', (err) => this.destroy(err));
    return source.pipe(this);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.hash.digest('hex') === this.expected) {
      callback();
      return;
    }
    this.onMismatch();
    callback(new DomainError('unauthenticated', 'inter-region request whose body does not match its signature'));
  }
}

export const STATE_HINT_PATH = '/internal/state-hint';

const hintBody = z.strictObject({ appId: z.string().min(1).max(128), epoch: z.number().int().min(0) });

/** `POST /internal/state-hint`: a peer says the register moved; `onHint` reads it (a claim is never adopted). */
export function peerStateRoutes(
  app: FastifyInstance,
  deps: { verifier: PeerVerifier; onHint: (appId: string, epoch: number) => void },
): void {
  app.post(STATE_HINT_PATH, peerRouteOptions(deps.verifier), async (request) => {
    const { appId, epoch } = parseWith(hintBody, request.body);
    deps.onHint(appId, epoch);
    return { ok: true };
  });
}
