import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { peerRouteOptions } from './peer.routes.js';
import { PEER_HEADERS, PeerVerifier } from './peer-auth.js';
import { PeerClient, PeerRequestError } from './peer-client.js';

const KEY = 'k'.repeat(43);

/**
 * A region answering `{applied: 5}`, and a man in the middle in front of it that can
 * rewrite the answer, drop its signature or keep a signed answer to replay later.
 */
describe('peer client: signed answers (issue 12, case 4)', () => {
  let region: FastifyInstance;
  let proxy: http.Server;
  let proxyUrl: string;
  let tamper: (
    status: number,
    headers: http.IncomingHttpHeaders,
    body: string,
  ) => [http.IncomingHttpHeaders, string, number?];
  let kept: { headers: http.IncomingHttpHeaders; body: string } | undefined;

  beforeAll(async () => {
    region = Fastify();
    region.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      request.rawBody = body as string;
      done(null, JSON.parse(body as string));
    });
    const verifier = new PeerVerifier(KEY, new Set(['us-east-1']));
    region.post('/internal/x', peerRouteOptions(verifier), async () => ({ applied: 5, durable: 5 }));
    await region.listen({ host: '127.0.0.1', port: 0 });
    const target = region.addresses()[0] as AddressInfo;
    proxy = http.createServer((req, res) => {
      const upstream = http.request(
        { host: target.address, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const [headers, body, status] = tamper(
              answer.statusCode!,
              answer.headers,
              Buffer.concat(chunks).toString(),
            );
            delete headers['content-length'];
            res.writeHead(status ?? answer.statusCode!, headers);
            res.end(body);
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await region.close();
    await new Promise((r) => proxy.close(r));
  });

  const client = new PeerClient(KEY, 'us-east-1');
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: PeerRequestError) => err.message,
    );

  // The same checks on node:http connections and on the pipelined ones the shipper's batches use.
  for (const pipelined of [false, true]) {
    const ask = () => client.call<{ applied: number }>(proxyUrl, 'POST', '/internal/x', { hello: 1 }, { pipelined });
    const it = (name: string, fn: () => Promise<void>) => test(`${name}${pipelined ? ' (pipelined)' : ''}`, fn);

    it('accepts an answer signed for its own request', async () => {
      tamper = (_s, headers, body) => [headers, body];
      expect(await ask()).toEqual({ applied: 5, durable: 5 });
    });

    it('refuses an answer whose figures were changed on the path', async () => {
      tamper = (_s, headers, body) => [headers, body.replace('"applied":5', '"applied":9')];
      expect(await refusal(ask())).toMatch(/forged signature/);
    });

    it('refuses an answer without a signature', async () => {
      tamper = (_s, headers, body) => {
        delete headers[PEER_HEADERS.responseSignature];
        return [headers, body];
      };
      expect(await refusal(ask())).toMatch(/no signature/);
    });

    it('refuses a signed answer replayed onto another request', async () => {
      tamper = (_s, headers, body) => {
        kept = { headers: { ...headers }, body };
        return [headers, body];
      };
      await ask();
      tamper = () => [{ ...kept!.headers }, kept!.body];
      expect(await refusal(ask())).toMatch(/forged signature/);
    });

    it('keeps the words, not the status, of an unsigned refusal', async () => {
      tamper = () => [{ 'content-type': 'application/json' }, '{"error":{"code":"not_found","message":"gone"}}', 404];
      const err = await ask().catch((e: PeerRequestError) => e);
      expect(err).toBeInstanceOf(PeerRequestError);
      expect((err as PeerRequestError).status).toBeNull();
      expect((err as PeerRequestError).message).toMatch(/gone/);
    });

    it('answers many requests in flight at once, each with its own signed answer', async () => {
      tamper = (_s, headers, body) => [headers, body];
      const answers = await Promise.all(Array.from({ length: 20 }, () => ask()));
      expect(answers).toEqual(Array.from({ length: 20 }, () => ({ applied: 5, durable: 5 })));
    });
  }
});
