/**
 * @module Frames of the batch stream between two regions (DESIGN §5): one long-lived
 * WebSocket per peer, opened by a request signed like every inter-region call
 * (src/peers/peer-auth.ts) and answered with a 101 signed over that request's nonce.
 * Every frame after it carries an HMAC-SHA256 under a key of that connection alone
 * (the replication key's MAC of the opening nonce) over its direction, its number in
 * that direction and its bytes. A frame altered, replayed, reordered, dropped, or sent
 * back the way it came fails its MAC, and the connection is closed: nothing in it is
 * trusted. TLS, when configured, still carries it all.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const STREAM_PATH = '/internal/replication/stream';
export const MAC_BYTES = 32;

/** Which way a frame travels: from the region shipping its log, or back from the receiver. */
export type Direction = 'batches' | 'answers';

const DIRECTION_BYTE: Record<Direction, number> = { batches: 0x42, answers: 0x41 };

/** The key of one connection: the replication key's MAC of the nonce that opened it. */
export function connectionKey(replicationKey: string, nonce: string): Buffer {
  return createHmac('sha256', replicationKey).update(`STREAM\n${nonce}`).digest();
}

function frameMac(key: Buffer, direction: Direction, n: bigint, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = DIRECTION_BYTE[direction];
  head.writeBigUInt64BE(n, 1);
  return createHmac('sha256', key).update(head).update(payload).digest();
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Seals the frames of one direction of one connection, numbering them from 0. */
export class FrameSealer {
  private n = 0n;

  constructor(
    private readonly key: Buffer,
    private readonly direction: Direction,
  ) {}

  seal(text: string): Buffer {
    const payload = Buffer.from(text, 'utf8');
    const mac = frameMac(this.key, this.direction, this.n++, payload);
    return Buffer.concat([mac, payload], MAC_BYTES + payload.length);
  }
}

/** Opens the frames of one direction of one connection, in the order they were sealed. */
export class FrameOpener {
  private n = 0n;

  constructor(
    private readonly key: Buffer,
    private readonly direction: Direction,
  ) {}

  /** The frame's text; throws FrameError when it is not the next frame sealed with this key this way. */
  open(frame: Buffer): string {
    if (frame.length < MAC_BYTES) throw new FrameError('a frame shorter than its MAC');
    const payload = frame.subarray(MAC_BYTES);
    const expected = frameMac(this.key, this.direction, this.n, payload);
    if (!timingSafeEqual(expected, frame.subarray(0, MAC_BYTES))) {
      throw new FrameError('a frame whose MAC does not match (altered, replayed, reordered or forged)');
    }
    this.n++;
    return payload.toString('utf8');
  }
}
