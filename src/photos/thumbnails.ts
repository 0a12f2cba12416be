/**
 * @module Thumbnails with sharp: longest side 320 px, WebP. Decoding stops at a pixel
 * limit, so a small file that claims a huge image (a decompression bomb) is refused
 * rather than exhausting memory.
 */

import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { DomainError } from '../core/errors.js';

export const THUMBNAIL_SIZE = 320;
/** 50 megapixels: more than any camera photo, far less than a bomb. */
export const MAX_INPUT_PIXELS = 50_000_000;

sharp.cache(false);
sharp.concurrency(1);

export interface Thumbnail {
  data: Buffer;
  width: number;
  height: number;
  contentType: 'image/webp';
}

export interface ImageInfo {
  width: number;
  height: number;
}

/**
 * Decode the stored original, report its size, and make its thumbnail. A file path is
 * read lazily by libvips; a stream is buffered by sharp, so prefer the path.
 */
export async function makeThumbnail(input: string | Readable): Promise<{ info: ImageInfo; thumbnail: Thumbnail }> {
  const options = {
    limitInputPixels: MAX_INPUT_PIXELS,
    sequentialRead: true,
    failOn: 'error',
    animated: false,
  } as const;
  const image = typeof input === 'string' ? sharp(input, options) : sharp(options);
  if (typeof input !== 'string') input.pipe(image);
  try {
    const meta = await image.metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions');
    const oriented =
      meta.orientation && meta.orientation >= 5
        ? { width: meta.height, height: meta.width }
        : { width: meta.width, height: meta.height };
    const { data, info } = await image
      .clone()
      .rotate()
      .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer({ resolveWithObject: true });
    return { info: oriented, thumbnail: { data, width: info.width, height: info.height, contentType: 'image/webp' } };
  } catch (err) {
    if (typeof input !== 'string') input.destroy();
    const message = (err as Error).message ?? '';
    if (/pixel limit/i.test(message)) {
      throw new DomainError('too_large', `the image has more than ${MAX_INPUT_PIXELS / 1e6} megapixels`, {
        maxPixels: MAX_INPUT_PIXELS,
      });
    }
    throw new DomainError('unsupported_media_type', 'the image could not be decoded');
  }
}
