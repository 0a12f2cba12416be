/**
 * @module A fault-injecting TCP proxy on loopback, placed between regions: it passes
 * traffic, delays it, black-holes it (connections hang) or resets it (connections
 * refused and cut), switched at run time by the test. It can also cut only the
 * connections of some senders: inter-region requests name their region in a signed
 * header, and one process's keep-alive connection carries only its own requests, so
 * the first bytes of a connection say whose it is (a partition of one region from
 * one destination, while others still pass).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'reset';

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  mode: ProxyMode = 'pass';
  delayMs = 0;
  port = 0;
  /** Senders (region names) whose connections are refused and cut. */
  private readonly cut = new Set<string>();
  private readonly senders = new Map<Socket, string>();

  constructor(
    private readonly targetPort: number,
    private readonly host = '127.0.0.1',
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(port, this.host, resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  set(mode: ProxyMode, delayMs = this.delayMs): void {
    this.mode = mode;
    this.delayMs = delayMs;
    if (mode !== 'pass') for (const s of this.sockets) if (mode === 'reset') s.destroy();
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
    const upstream = connect(this.targetPort, this.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    let classified = false;
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (from === client && !classified) {
          // The first bytes of a connection carry its first request's headers.
          classified = true;
          const sender = /x-mraa-region:\s*([a-z0-9-]+)/i.exec(chunk.toString('latin1'))?.[1];
          if (sender) this.senders.set(client, sender);
          client.once('close', () => this.senders.delete(client));
        }
        const sender = this.senders.get(client);
        if (sender && this.cut.has(sender)) {
          client.destroy();
          upstream.destroy();
          return;
        }
        if (this.mode === 'blackhole') return; // dropped on the floor
        if (this.mode === 'reset') {
          from.destroy();
          to.destroy();
          return;
        }
        if (this.delayMs > 0) {
          from.pause();
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
            from.resume();
          }, this.delayMs);
        } else if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    relay(client, upstream);
    relay(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
