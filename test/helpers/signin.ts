/**
 * @module A wrong-password sign-in from a chosen loopback address (each address has its
 * own sign-in limit): the load of the sign-in pressure test and benchmark.
 */
import { request } from 'node:http';

/** A wrong-password sign-in from `from`; resolves to the status (0 when it failed to connect). */
export function wrongSignIn(url: string, from: string, username: string): Promise<number> {
  const body = JSON.stringify({ username, password: 'wrong-password-guess' });
  const u = new URL('/auth/signin', url);
  return new Promise((resolve) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        localAddress: from,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
