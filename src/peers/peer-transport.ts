/**
 * @module The peer-transport port (src/ports/peer-transport.ts) over HTTP: every call
 * signed with the replication key, every answer's signature checked by the peer
 * client (src/peers/peer-client.ts). A batch is sent with its entries' stored JSON
 * spliced in, never parsed and serialised again, on the peer's batch stream (one
 * WebSocket, every frame MACed: src/peers/batch-stream.ts) or, to a peer without one,
 * as a pipelined HTTP request.
 */
import type { Readable } from 'node:stream';
import type { RawLogEntry } from '../ports/change-log.js';
import {
  BATCH_PATH,
  type BatchHead,
  type BatchResponse,
  BODY_PATH,
  BodyNotHereError,
  type CallOptions,
  DRAIN_PATH,
  type DrainStatus,
  type LogPosition,
  type PeerAddress,
  type PeerTransport,
  POSITION_PATH,
} from '../ports/peer-transport.js';
import { type BatchStreams, StreamUnsupported } from './batch-stream.js';
import { type PeerClient, PeerRequestError, RawJson } from './peer-client.js';

export class HttpPeerTransport implements PeerTransport {
  constructor(
    private readonly client: PeerClient,
    /** Batches go by one long-lived stream per peer (src/peers/batch-stream.ts) where the peer has it. */
    private readonly streams?: BatchStreams,
  ) {}

  async sendBatch(
    peer: PeerAddress,
    head: BatchHead,
    entries: readonly RawLogEntry[],
    options: CallOptions,
  ): Promise<BatchResponse> {
    const items = entries.map(
      (e) => `{"seq":${e.seq},"createdAt":${e.createdAt},"bytes":${e.bytes},"change":${e.json}}`,
    );
    const text = `${JSON.stringify(head).slice(0, -1)},"entries":[${items.join(',')}]}`;
    if (this.streams?.available(peer.url)) {
      try {
        return (await this.streams.send(peer.url, text, options)) as BatchResponse;
      } catch (err) {
        if (!(err instanceof StreamUnsupported)) throw err;
      }
    }
    // A peer without the stream (an older version, during an upgrade): one request per batch, pipelined.
    return this.client.call<BatchResponse>(peer.url, 'POST', BATCH_PATH, new RawJson(text), {
      ...options,
      pipelined: true,
    });
  }

  async sendBody(
    peer: PeerAddress,
    body: { sha256: string; size: number; stream: Readable },
    options: CallOptions,
  ): Promise<void> {
    try {
      await this.client.call(peer.url, 'PUT', `${BODY_PATH}${body.sha256}`, undefined, {
        ...options,
        stream: { body: body.stream, sha256: body.sha256, size: body.size },
      });
    } catch (err) {
      if (err instanceof PeerRequestError && err.status === 404) throw new BodyNotHereError(body.sha256);
      throw err;
    }
  }

  async hasBody(peer: PeerAddress, sha256: string, options: CallOptions): Promise<boolean> {
    const res = await this.client.call<{ present: boolean }>(
      peer.url,
      'GET',
      `${BODY_PATH}${sha256}`,
      undefined,
      options,
    );
    return res.present === true;
  }

  position(peer: PeerAddress, origin: string, options: CallOptions): Promise<LogPosition> {
    return this.client.call<LogPosition>(
      peer.url,
      'GET',
      `${POSITION_PATH}${encodeURIComponent(origin)}`,
      undefined,
      options,
    );
  }

  drainStatus(peer: PeerAddress, from: string, epoch: number, options: CallOptions): Promise<DrainStatus> {
    return this.client.call<DrainStatus>(
      peer.url,
      'GET',
      `${DRAIN_PATH}?from=${encodeURIComponent(from)}&epoch=${epoch}`,
      undefined,
      options,
    );
  }
}
