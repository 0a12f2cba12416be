/**
 * @module Photos for object replication: distinct JPEG and PNG files of random noise
 * (so no two bodies share content and nothing compresses), made with sharp and
 * written to files so that uploads stream them from disk.
 */

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';

export interface PhotoFile {
  file: string;
  contentType: 'image/jpeg' | 'image/png';
  size: number;
}

// Noise compresses to about 2.85 bytes a pixel as JPEG (quality 100, 4:4:4), 3 as PNG.
const BYTES_PER_PIXEL = { jpeg: 2.85, png: 3.0 } as const;
const WIDTH = 2048;

export async function makePhotos(args: { dir: string; count: number; bytes: number }): Promise<PhotoFile[]> {
  const out: PhotoFile[] = [];
  for (let i = 0; i < args.count; i++) {
    const type = i % 2 === 0 ? 'jpeg' : 'png';
    const height = Math.ceil(args.bytes / BYTES_PER_PIXEL[type] / WIDTH);
    const raw = sharp(randomBytes(WIDTH * height * 3), { raw: { width: WIDTH, height, channels: 3 } });
    const file = join(args.dir, `photo-${i}.${type === 'jpeg' ? 'jpg' : 'png'}`);
    const encoded =
      type === 'jpeg' ? raw.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }) : raw.png({ compressionLevel: 1 });
    const info = await encoded.toFile(file);
    out.push({ file, contentType: `image/${type}`, size: info.size });
  }
  return out;
}
