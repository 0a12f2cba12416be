/**
 * @module Photos: the paged list, one photo's bytes (original or thumbnail) as a Blob
 * (they need the bearer header, so an <img src> cannot load them), and delete.
 */
import type { Transport } from './transport';
import type { Photo, PhotoPage } from './types';

export const PAGE_SIZE = 24;

export class PhotosApi {
  constructor(private readonly t: Transport) {}

  async list(cursor?: string | null, limit = PAGE_SIZE, signal?: AbortSignal): Promise<PhotoPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    const res = await this.t.send(`/photos?${query}`, { ...(signal ? { signal } : {}) });
    const body = (await res.json()) as { photos: Photo[]; nextCursor: string | null };
    const lag = res.headers.get('x-replica-lag-ms');
    return {
      photos: body.photos,
      nextCursor: body.nextCursor ?? null,
      replicaLagMs: lag !== null && lag !== '' ? Number(lag) : null,
    };
  }

  get(photoId: string, signal?: AbortSignal): Promise<Photo> {
    return this.t.json<Photo>(`/photos/${encodeURIComponent(photoId)}`, { ...(signal ? { signal } : {}) });
  }

  async bytes(photoId: string, variant: 'image' | 'thumbnail', signal?: AbortSignal): Promise<Blob> {
    const res = await this.t.send(`/photos/${encodeURIComponent(photoId)}/${variant}`, {
      ...(signal ? { signal } : {}),
    });
    return res.blob();
  }

  async remove(photoId: string): Promise<void> {
    await this.t.send(`/photos/${encodeURIComponent(photoId)}`, { method: 'DELETE' });
  }
}
