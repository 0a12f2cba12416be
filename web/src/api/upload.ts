/**
 * @module Photo upload with XMLHttpRequest (fetch cannot report upload progress): the
 * raw bytes go to the writer region with the file's image type; a 421
 * `not_active_region` refreshes the routing and is retried once at `activeUrl`.
 */
import { ApiError, errorFromBody } from './errors';
import type { Transport } from './transport';
import type { Photo } from './types';

export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;

export interface UploadOptions {
  /** Fraction sent, 0..1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export async function uploadPhoto(t: Transport, file: File, opts: UploadOptions = {}): Promise<Photo> {
  if (!(UPLOAD_TYPES as readonly string[]).includes(file.type)) {
    throw new ApiError('unsupported_media_type', `${file.name} is not a JPEG, PNG, WebP or GIF image`, 415);
  }
  await t.routing.start();
  const first = t.routing.writerUrl;
  if (!first) throw new ApiError('network', 'no region is reachable');
  try {
    return await send(first, t, file, opts);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'not_active_region') throw err;
    await t.routing.refresh();
    const retarget =
      typeof err.details.activeUrl === 'string' ? err.details.activeUrl.replace(/\/+$/, '') : t.routing.writerUrl;
    if (!retarget || retarget === first) throw err;
    opts.onProgress?.(0);
    return send(retarget, t, file, opts);
  }
}

function send(baseUrl: string, t: Transport, file: File, opts: UploadOptions): Promise<Photo> {
  return new Promise<Photo>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${baseUrl}/photos`);
    const token = t.token();
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', file.type);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
    };
    const onAbort = () => xhr.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as Photo);
        } catch {
          reject(new ApiError('invalid_response', 'the server sent an answer that is not JSON', xhr.status));
        }
        return;
      }
      reject(t.refusal(errorFromBody(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after'))));
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError('network', 'the upload could not be sent'));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('upload cancelled', 'AbortError'));
    };
    xhr.send(file);
  });
}
