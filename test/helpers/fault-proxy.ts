/**
 * @module A fault-injecting TCP proxy on loopback, placed between regions: it passes
 * traffic, black-holes it (connections hang) or resets it (connections refused and
 * cut), switched at run time by the test. It can also cut only the connections of some
 * senders: inter-region requests name their region in a signed header, and one
 * process's keep-alive connection carries only its own requests, so the first bytes of
 * a connection say whose it is (a partition of one region from one destination, while
 * others still pass).
 *
 * While passing, it models a long link between two regions (link-shaper.ts), set per
 * direction: `toTarget` carries requests to the region behind the proxy, `toClient` the
 * answers. Each has a one-way delay, pipelined (a chunk read at t is written at
 * t + delay, FIN included, in order), and an optional bandwidth cap shared fairly by all
 * the proxy's connections. With no delay and no cap a chunk is written at once. Bytes
 * read while black-holed are dropped; bytes already in flight still arrive.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Link } from './link-shaper.js';

export type ProxyMode = 'pass' | 'blackhole' | 'reset';

/** `toTarget`: client → the region behind the proxy; `toClient`: its answers. */
export interface PerDirection<T> {
  toTarget: T;
  toClient: T;
}

/** Link settings; a plain value sets both directions, a field left out is kept. */
export interface LinkOptions {
  delayMs?: number | PerDirection<number>;
  /** Bytes per second; null: no cap. */
  bandwidthBytesPerSec?: number | null | PerDirection<number | null>;
}

export interface LinkSettings {
  delayMs: PerDirection<number>;
  bandwidthBytesPerSec: PerDirection<number | null>;
}

const DIRECTIONS = ['toTarget', 'toClient'] as const;

function perDirection<T extends number | null>(v: T | PerDirection<T>): PerDirection<T> {
  return typeof v === 'object' && v !== null ? v : { toTarget: v as T, toClient: v as T };
}

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  mode: ProxyMode = 'pass';
  port = 0;
  /** Senders (region names) whose connections are refused and cut. */
  private readonly cut = new Set<string>();
  private readonly senders = new Map<Socket, string>();
  private readonly links: PerDirection<Link> = { toTarget: new Link(), toClient: new Link() };

  constructor(
    private readonly targetPort: number,
    private readonly host = '127.0.0.1',
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(port, this.host, resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Sets the mode and, if given, the delay of both directions. */
  set(mode: ProxyMode, delayMs?: number): void {
    this.mode = mode;
    if (delayMs !== undefined) this.setLink({ delayMs });
    if (mode === 'reset') for (const s of this.sockets) s.destroy();
  }

  /** The delay toward the target (both directions' delays: `link`); setting it sets both. */
  get delayMs(): number {
    return this.links.toTarget.delayMs;
  }
  set delayMs(ms: number) {
    this.setLink({ delayMs: ms });
  }

  /** Changes the link for the chunks read from now on (a new cap: for link time granted from now on). */
  setLink(link: LinkOptions): void {
    const delay = link.delayMs === undefined ? undefined : perDirection(link.delayMs);
    const bw = link.bandwidthBytesPerSec === undefined ? undefined : perDirection(link.bandwidthBytesPerSec);
    for (const d of DIRECTIONS) {
      const ms = delay?.[d];
      if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`delayMs.${d}: ${ms}`);
      const cap = bw?.[d];
      if (cap != null && !(Number.isFinite(cap) && cap > 0)) throw new RangeError(`bandwidthBytesPerSec.${d}: ${cap}`);
    }
    for (const d of DIRECTIONS) {
      if (delay) this.links[d].delayMs = delay[d];
      if (bw) this.links[d].setBandwidth(bw[d]);
    }
  }

  get link(): LinkSettings {
    const { toTarget: t, toClient: c } = this.links;
    return {
      delayMs: { toTarget: t.delayMs, toClient: c.delayMs },
      bandwidthBytesPerSec: { toTarget: t.bandwidthBytesPerSec, toClient: c.bandwidthBytesPerSec },
    };
  }

  /** Bytes relayed (written to the far side), since the start. */
  get bytes(): PerDirection<number> {
    return { toTarget: this.links.toTarget.bytes, toClient: this.links.toClient.bytes };
  }

  /** Bytes read and not yet written (in flight or waiting for the link). */
  get queued(): PerDirection<number> {
    return { toTarget: this.links.toTarget.queued, toClient: this.links.toClient.queued };
  }

  /** Bytes read and dropped while black-holed, since the start. */
  get dropped(): PerDirection<number> {
    return { toTarget: this.links.toTarget.dropped, toClient: this.links.toClient.dropped };
  }

  /** Refuses and cuts the connections of these senders (by the x-mraa-region header), others pass. */
  cutFrom(...regions: string[]): void {
    for (const r of regions) this.cut.add(r);
    for (const [socket, sender] of this.senders) if (this.cut.has(sender)) socket.destroy();
  }

  /** Lets every sender through again. */
  heal(): void {
    this.cut.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'reset') return void client.destroy();
    const upstream = connect({ port: this.targetPort, host: this.host, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    const cutBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    let classified = false;
    const relay = (from: Socket, to: Socket, link: Link) => {
      const flow = link.flow(from, to);
      from.on('data', (chunk: Buffer) => {
        if (from === client && !classified) {
          // The first bytes of a connection carry its first request's headers.
          classified = true;
          const sender = /x-mraa-region:\s*([a-z0-9-]+)/i.exec(chunk.toString('latin1'))?.[1];
          if (sender) this.senders.set(client, sender);
          client.once('close', () => this.senders.delete(client));
        }
        const sender = this.senders.get(client);
        if (sender && this.cut.has(sender)) return cutBoth();
        if (this.mode === 'reset') return cutBoth();
        if (this.mode === 'blackhole') {
          link.dropped += chunk.length; // dropped on the floor
          return;
        }
        flow.send(chunk);
      });
      // The FIN follows the bytes before it; unless passing, an end closes both as it always did.
      from.on('end', () => (this.mode === 'pass' ? flow.end() : cutBoth()));
      to.on('close', (hadError) => {
        flow.dispose(); // nothing more reaches `to`
        // After its FIN, `to`'s own bytes still go their way (the other flow); cut, it cuts the other side.
        if (hadError || !to.readableEnded) from.destroy();
      });
    };
    relay(client, upstream, this.links.toTarget);
    relay(upstream, client, this.links.toClient);
  }
}
