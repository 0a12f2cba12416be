/**
 * @module Photo records in the replicated `photos` table, their originals and
 * thumbnails in the `photos` bucket.
 */
import type { Readable } from 'node:stream';
import type { ByteRange, ObjectBody, ObjectStore, ObjectVersion } from '../ports/object-store.js';
import type { Page, Stamp, TableStore } from '../ports/table-store.js';

export const PHOTOS_TABLE = 'photos';
export const PHOTOS_BUCKET = 'photos';

export interface PhotoRecord extends Record<string, unknown> {
  photoId: string;
  appId: string;
  owner: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
  sha256: string;
  createdAt: string;
}

export const originalKey = (photoId: string) => `originals/${photoId}`;
export const thumbnailKey = (photoId: string) => `thumbnails/${photoId}.webp`;

export type PhotoFile = 'original' | 'thumbnail';
const keyOf = (photoId: string, kind: PhotoFile) =>
  kind === 'original' ? originalKey(photoId) : thumbnailKey(photoId);

export class PhotosRepository {
  constructor(
    private readonly tables: TableStore,
    private readonly objects: ObjectStore,
    private readonly appId: string,
  ) {}

  get(photoId: string): Promise<PhotoRecord | undefined> {
    return this.tables.get<PhotoRecord>(PHOTOS_TABLE, photoId);
  }

  newest(limit: number, cursor: string | null): Promise<Page<PhotoRecord>> {
    return this.tables.query<PhotoRecord>(PHOTOS_TABLE, 'newest', this.appId, { limit, cursor, order: 'desc' });
  }

  async save(record: PhotoRecord, stamp: Stamp): Promise<void> {
    await this.tables.put(PHOTOS_TABLE, record, { stamp, expected: null });
  }

  async remove(photoId: string, stamp: Stamp): Promise<void> {
    await this.tables.delete(PHOTOS_TABLE, photoId, { stamp });
    await this.objects.delete(PHOTOS_BUCKET, originalKey(photoId), { stamp });
    await this.objects.delete(PHOTOS_BUCKET, thumbnailKey(photoId), { stamp });
  }

  putOriginal(
    photoId: string,
    body: Readable,
    options: { contentType: string; maxBytes: number; inspect: (head: Buffer) => void; stamp: Stamp },
  ) {
    return this.objects.put(PHOTOS_BUCKET, originalKey(photoId), body, options);
  }

  putThumbnail(photoId: string, body: Readable, stamp: Stamp) {
    return this.objects.put(PHOTOS_BUCKET, thumbnailKey(photoId), body, { contentType: 'image/webp', stamp });
  }

  head(photoId: string, kind: PhotoFile): Promise<ObjectVersion> {
    return this.objects.head(PHOTOS_BUCKET, keyOf(photoId, kind));
  }

  open(photoId: string, kind: PhotoFile, range?: ByteRange): Promise<ObjectBody> {
    return this.objects.get(PHOTOS_BUCKET, keyOf(photoId, kind), range ? { range } : {});
  }

  /** The original as a local file path when the store has one, else as a stream. */
  async originalSource(photoId: string): Promise<string | Readable> {
    return (
      (await this.objects.localPath?.(PHOTOS_BUCKET, originalKey(photoId))) ??
      (await this.open(photoId, 'original')).body
    );
  }

  /** Best effort: hide objects of an upload that did not complete. */
  async discard(photoId: string, stamp: Stamp): Promise<void> {
    for (const key of [originalKey(photoId), thumbnailKey(photoId)]) {
      await this.objects.delete(PHOTOS_BUCKET, key, { stamp }).catch(() => undefined);
    }
  }
}
