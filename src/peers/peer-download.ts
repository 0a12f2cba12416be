/**
 * @module Signed GETs from another region whose answer is a stream (a snapshot file, an
 * object body): the request is signed with the replication key like every
 * inter-region call (src/peers/peer-auth.ts); a streamed answer is not signed, so the
 * caller checks what it receives against a SHA-256 it got from a signed answer, or
 * against the body's own name. A failure's answer is small: read whole, and its status
 * trusted only when signed (as src/peers/peer-client.ts does).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  EMPTY_SHA256,
  isPeerResponseSigned,
  type KeyRing,
  keyRing,
  PEER_HEADERS,
  signPeerRequest,
} from './peer-auth.js';
import { describeFetchError, PeerRequestError } from './peer-client.js';

export interface DownloadOptions {
  /** Resume from this byte (a Range request): the answer is 206, or 200 if the peer sends it all. */
  start?: number;
  /** No byte for this long cuts the download. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface OpenDownload {
  status: number;
  /** The first byte of the answer's body within the whole file (0 unless 206). */
  start: number;
  /** The length of the whole file, when the peer said. */
  total: number | undefined;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 8 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

export class PeerDownloads {
  private readonly keys: KeyRing;

  constructor(
    key: string | KeyRing,
    /** The calling region's name. */
    private readonly self: string,
  ) {
    this.keys = keyRing(key);
  }

  /** Resolves once the answer's status and headers are in; a failure (not 2xx) rejects with PeerRequestError. */
  open(baseUrl: string, path: string, options: DownloadOptions = {}): Promise<OpenDownload> {
    const url = new URL(path, baseUrl);
    const headers: Record<string, string> = signPeerRequest(this.keys[0], {
      method: 'GET',
      path,
      region: this.self,
      contentSha256: EMPTY_SHA256,
    });
    if (options.start && options.start > 0) headers.range = `bytes=${options.start}-`;
    const what = `GET ${baseUrl}${path}`;
    const transport = url.protocol === 'https:' ? https : http;
    const agent = agents[url.protocol as keyof typeof agents];
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method: 'GET', headers, agent });
      req.setTimeout(options.idleTimeoutMs ?? 30_000, () =>
        req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })),
      );
      const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => options.signal?.removeEventListener('abort', onAbort));
      req.on('error', (err) => reject(new PeerRequestError(`${what}: ${describeFetchError(err)}`, null, null)));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200 || status === 206) {
          const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
          const length = Number(res.headers['content-length']);
          resolve({
            status,
            start: status === 206 && range ? Number(range[1]) : 0,
            total: range ? Number(range[2]) : Number.isFinite(length) ? length : undefined,
            headers: res.headers,
            body: res,
          });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new PeerRequestError(`${what}: ${describeFetchError(err)}`, null, null)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const signature = res.headers[PEER_HEADERS.responseSignature];
          const signed = isPeerResponseSigned(
            this.keys,
            headers[PEER_HEADERS.nonce]!,
            status,
            raw,
            typeof signature === 'string' ? signature : undefined,
          );
          let message = raw.toString('utf8').slice(0, 200);
          try {
            message = (JSON.parse(raw.toString('utf8')) as { error?: { message?: string } }).error?.message ?? message;
          } catch {
            /* not JSON */
          }
          reject(
            new PeerRequestError(
              `${what}: ${status} ${message}${signed ? '' : ' (answer not signed)'}`,
              signed ? status : null,
              null,
            ),
          );
        });
      });
      req.end();
    });
  }
}
