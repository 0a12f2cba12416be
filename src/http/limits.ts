/**
 * @module What one client, or all of them together, may hold of a region server
 * (DESIGN §8): timeouts on headers, bodies and whole requests, a cap on connections
 * per address and in all, and the shared counting of both (`AddressSlots`, also used
 * for live-event streams). The settings live in `settings.limits` of the configuration.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { isLoopback } from './auth-guards.js';

export interface Limits {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxEventStreams: number;
  maxEventStreamsPerAddress: number;
  perAddressOnLoopback: boolean;
  thumbnailConcurrency: number;
  thumbnailQueue: number;
  passwordHashThreads: number;
  passwordHashQueue: number;
}

export const DEFAULT_LIMITS: Limits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  // The backstop for streamed bodies (uploads, object bodies from peers): long enough for
  // a 1 GiB body at 0.6 MB/s, the slowest rate the shipper itself waits for.
  requestTimeoutMs: 30 * 60_000,
  // Above the event streams' 15 s heartbeat and the 30 s drain wait.
  idleTimeoutMs: 120_000,
  // Fastify's own default: the peers' keep-alive connections are not closed under them any sooner.
  keepAliveTimeoutMs: 72_000,
  maxConnections: 2048,
  maxConnectionsPerAddress: 128,
  maxEventStreams: 1024,
  maxEventStreamsPerAddress: 32,
  perAddressOnLoopback: false,
  // Two cores: one image decoded at a time leaves a core for everything else.
  thumbnailConcurrency: 1,
  thumbnailQueue: 16,
  passwordHashThreads: 1,
  passwordHashQueue: 64,
};

/** How often Node looks for connections past their header or request deadline. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** A JSON body's deadline grows by this much per MiB declared (a slow link, not a slow client). */
export const BODY_TIMEOUT_PER_MIB_MS = 1000;

/** How long the unread rest of a request answered early is read and dropped before the connection closes. */
export const LINGER_MS = 2000;

/**
 * A request answered (with `connection: close`) before its body arrived whole: when
 * Node closes the connection after the answer, it only ends its own side and reads and
 * drops the rest of the body for at most LINGER_MS (a lingering close, as web servers
 * do), so the client reads the answer instead of a reset.
 */
export function lingerBeforeClose(request: IncomingMessage): void {
  const socket = request.socket as Socket | null;
  if (!socket || socket.destroyed) return;
  request.resume();
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
  };
}

const ANSWERED = Symbol('mraa.clientErrorAnswered');

/**
 * Fastify's clientErrorHandler: malformed HTTP (a bad method, a broken header, headers
 * too large), or headers that did not arrive in time, answered in the shape of DESIGN §6
 * with `connection: close`. A malformed request's connection is closed as a web server
 * does it (a lingering close, so the client reads the answer rather than a reset); a
 * timed-out one at once.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const marked = socket as Socket & { [ANSWERED]?: true };
  if (marked[ANSWERED]) return;
  marked[ANSWERED] = true;
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const [status, code, message] = timedOut
    ? ['408 Request Timeout', 'request_timeout', 'the request did not arrive in time']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', 'too_large', 'the request line and headers are too large']
      : ['400 Bad Request', 'invalid_request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  // Not in the middle of another answer on this connection (a request served before the bad one).
  const busy = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  if (socket.writable && !busy) {
    socket.write(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  if (timedOut) {
    socket.destroySoon();
    return;
  }
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
}

/** The Fastify server options that carry the timeouts. */
export function serverTimeouts(limits: Limits) {
  const headersTimeout =
    limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs;
  return {
    clientErrorHandler: answerClientError,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, Math.max(100, headersTimeout / 2)),
    },
  };
}

/**
 * The unit an address limit counts: an IPv4 address, or an IPv6 /64 (one host usually
 * holds a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...headGroups, ...Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export type SlotRefusal = 'address' | 'total';

/**
 * Counted slots, per address and in all. `take` answers a release function, or why it
 * refused; releasing twice is harmless.
 */
export class AddressSlots {
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
    private readonly perAddressOnLoopback = false,
  ) {}

  take(address: string | undefined): (() => void) | SlotRefusal {
    const key = addressKey(address);
    const counted = this.perAddressOnLoopback || !isLoopback(address);
    const held = this.byAddress.get(key) ?? 0;
    if (counted && held >= this.maxPerAddress) return 'address';
    if (this.total >= this.maxTotal) return 'total';
    this.total++;
    this.byAddress.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byAddress.get(key) ?? 1) - 1;
      if (left <= 0) this.byAddress.delete(key);
      else this.byAddress.set(key, left);
    };
  }

  get size(): number {
    return this.total;
  }

  heldBy(address: string): number {
    return this.byAddress.get(addressKey(address)) ?? 0;
  }
}

/**
 * Caps the connections a server holds. A connection over a cap is answered at once
 * (429 `rate_limited` over the per-address cap, 503 `overloaded` over the total, both
 * with Retry-After) and closed, before any request on it is read.
 */
export function capConnections(server: Server, limits: Limits): AddressSlots {
  const slots = new AddressSlots(limits.maxConnections, limits.maxConnectionsPerAddress, limits.perAddressOnLoopback);
  server.prependListener('connection', (socket: Socket) => {
    const taken = slots.take(socket.remoteAddress);
    if (typeof taken === 'function') {
      socket.once('close', taken);
      return;
    }
    refuseConnection(socket, taken);
  });
  return slots;
}

/** Set on a refused connection: a request that still reaches the server on it is ignored. */
export const REFUSED = Symbol('mraa.refusedConnection');

function refuseConnection(socket: Socket, why: SlotRefusal): void {
  (socket as Socket & { [REFUSED]?: true })[REFUSED] = true;
  const [status, code, message] =
    why === 'address'
      ? ['429 Too Many Requests', 'rate_limited', 'too many connections from this address']
      : ['503 Service Unavailable', 'overloaded', 'this server holds as many connections as it may'];
  const body = JSON.stringify({ error: { code, message, retryAfter: 1 } });
  socket.on('error', () => undefined);
  socket.pause();
  socket.end(
    `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\nretry-after: 1\r\n` +
      `connection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

export function isRefused(socket: Socket | undefined): boolean {
  return !!socket && (socket as Socket & { [REFUSED]?: true })[REFUSED] === true;
}
