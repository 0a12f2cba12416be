/**
 * @module Test images made with sharp: small ones of each accepted type, and a large
 * noisy JPEG written to a file (so it is not held in the test's memory while streamed).
 */

import type { NonSharedBuffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

export async function image(
  type: 'jpeg' | 'png' | 'webp' | 'gif',
  width = 800,
  height = 600,
): Promise<NonSharedBuffer> {
  const base = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } });
  return nonShared(await base.toFormat(type).toBuffer());
}

/**
 * sharp's output, typed for a fetch body. sharp types it as a Buffer over any
 * ArrayBufferLike (shared memory included), which fetch's `BodyInit` refuses; it is
 * an ordinary Buffer over an ArrayBuffer.
 */
export function nonShared(buf: Buffer): NonSharedBuffer {
  return buf as NonSharedBuffer;
}

/** A JPEG of random noise of at least `bytes` bytes, written to `file`. */
export async function noisyJpegFile(file: string, bytes: number): Promise<number> {
  // Noise at quality 100, 4:4:4, compresses to about 2.9 bytes a pixel.
  const pixels = Math.ceil(bytes / 2.85);
  const width = 4000;
  const height = Math.ceil(pixels / width);
  const raw = randomBytes(width * height * 3);
  const info = await sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toFile(file);
  return info.size;
}
