/**
 * @module The photo-sharing service: uploads checked by type and size and streamed to
 * the object store, a thumbnail made under a pixel limit, a record in the `photos`
 * table; listing, reading and deleting (with the photo's comments).
 */
import { Readable } from 'node:stream';
import type { CommentsService } from '../comments/comments.service.js';
import { DomainError } from '../core/errors.js';
import type { ByteRange, ObjectBody, ObjectVersion } from '../ports/object-store.js';
import type { Stamp } from '../ports/table-store.js';
import type { BoundedQueue } from '../util/bounded-queue.js';
import { timeOrderedId } from '../util/ids.js';
import { IMAGE_TYPES, isImageType, sniffImageType } from './image-types.js';
import type { PhotoFile, PhotoRecord, PhotosRepository } from './photos.repository.js';
import { makeThumbnail } from './thumbnails.js';

export const PHOTOS_PAGE_DEFAULT = 24;
export const PHOTOS_PAGE_MAX = 100;

export interface UploadInput {
  owner: string;
  /** The Content-Type the client sent. */
  claimedType: string | undefined;
  /** The Content-Length the client sent, if any. */
  declaredLength: number | undefined;
  body: Readable;
}

export class PhotosService {
  constructor(
    private readonly deps: {
      repo: PhotosRepository;
      comments: CommentsService;
      appId: string;
      maxUploadBytes: number;
      stamp: Stamp;
      now?: () => Date;
      /** Bounds the image work (decoding is CPU and memory heavy, and runs on libuv's pool). */
      thumbnails: BoundedQueue;
    },
  ) {}

  async upload(input: UploadInput): Promise<PhotoRecord> {
    const { repo, maxUploadBytes, stamp } = this.deps;
    if (!isImageType(input.claimedType)) {
      throw new DomainError(
        'unsupported_media_type',
        `upload a JPEG, PNG, WebP or GIF image (Content-Type ${IMAGE_TYPES.join(', ')})`,
        {
          accepted: IMAGE_TYPES,
        },
      );
    }
    if (input.declaredLength !== undefined && input.declaredLength > maxUploadBytes) {
      throw new DomainError('too_large', `a photo is at most ${maxUploadBytes} bytes`, { maxBytes: maxUploadBytes });
    }
    // Refuse at once in a fenced or passive region, or when too many images wait, before the body is read.
    stamp();
    if (this.deps.thumbnails.full) throw this.deps.thumbnails.refusal();
    const claimed = input.claimedType;
    const inspect = (head: Buffer) => {
      const actual = sniffImageType(head);
      if (actual !== claimed) {
        throw new DomainError(
          'unsupported_media_type',
          actual ? `the body is ${actual}, not ${claimed}` : 'the body is not a JPEG, PNG, WebP or GIF image',
          {
            accepted: IMAGE_TYPES,
          },
        );
      }
    };
    const photoId = timeOrderedId();
    const original = await repo.putOriginal(photoId, input.body, {
      contentType: claimed,
      maxBytes: maxUploadBytes,
      inspect,
      stamp,
    });
    try {
      const source = await repo.originalSource(photoId);
      const { info, thumbnail } = await this.deps.thumbnails.run(() => makeThumbnail(source));
      await repo.putThumbnail(photoId, Readable.from([thumbnail.data]), stamp);
      const record: PhotoRecord = {
        photoId,
        appId: this.deps.appId,
        owner: input.owner,
        contentType: claimed,
        size: original.size,
        width: info.width,
        height: info.height,
        sha256: original.sha256!,
        createdAt: (this.deps.now ?? (() => new Date()))().toISOString(),
      };
      await repo.save(record, stamp);
      return record;
    } catch (err) {
      await repo.discard(photoId, stamp);
      throw err;
    }
  }

  async list(
    limit = PHOTOS_PAGE_DEFAULT,
    cursor: string | null = null,
  ): Promise<{ photos: PhotoRecord[]; nextCursor: string | null }> {
    const page = await this.deps.repo.newest(Math.min(limit, PHOTOS_PAGE_MAX), cursor);
    return { photos: page.items, nextCursor: page.nextCursor };
  }

  async get(photoId: string): Promise<PhotoRecord> {
    const record = await this.deps.repo.get(photoId);
    if (!record) throw new DomainError('not_found', `no photo ${photoId}`);
    return record;
  }

  async exists(photoId: string): Promise<boolean> {
    return (await this.deps.repo.get(photoId)) !== undefined;
  }

  /** The stored object behind a photo: its original or its thumbnail. */
  async head(photoId: string, kind: PhotoFile): Promise<ObjectVersion> {
    await this.get(photoId);
    return this.deps.repo.head(photoId, kind);
  }

  open(photoId: string, kind: PhotoFile, range?: ByteRange): Promise<ObjectBody> {
    return this.deps.repo.open(photoId, kind, range);
  }

  async delete(photoId: string, actor: { username: string; role: 'admin' | 'user' }): Promise<void> {
    const record = await this.get(photoId);
    if (record.owner !== actor.username && actor.role !== 'admin')
      throw new DomainError('forbidden', 'only the owner or an administrator can delete a photo');
    this.deps.stamp();
    await this.deps.comments.removeAll(photoId, this.deps.stamp);
    await this.deps.repo.remove(photoId, this.deps.stamp);
  }
}
