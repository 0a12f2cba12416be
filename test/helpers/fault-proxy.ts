/**
 * @module A fault-injecting TCP proxy on loopback, placed between regions: it passes
 * traffic, delays it, black-holes it (connections hang) or resets it (connections
 * refused and cut), switched at run time by the test.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'reset';

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  mode: ProxyMode = 'pass';
  delayMs = 0;
  port = 0;

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
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
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
