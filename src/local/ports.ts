/**
 * @module Port choice for a new local deployment: the default ports when they are
 * free, otherwise ports the operating system hands out.
 */
import { createServer } from 'node:net';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : null;
      srv.close(() => resolve(got));
    });
  });
}

/** `count` ports on 127.0.0.1: base, base+1, ... if all are free, else free ephemeral ones. */
export async function choosePorts(count: number, base: number): Promise<number[]> {
  if (base > 0) {
    const wanted = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(wanted.map(tryListen));
    if (free.every((p) => p !== null)) return wanted;
  }
  const out: number[] = [];
  while (out.length < count) {
    const p = await tryListen(0);
    if (p !== null && !out.includes(p)) out.push(p);
  }
  return out;
}
