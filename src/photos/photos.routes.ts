/**
 * @module The photos API: upload (a raw image body), list, read, original and
 * thumbnail bytes (Range, ETag, caching), delete.
 */

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';
import { user } from '../http/auth-guards.js';
import { parseRange } from '../http/range.js';
import { parseWith } from '../http/validation.js';
import { photoId } from './photo-id.js';
import type { PhotoFile } from './photos.repository.js';
import { PHOTOS_PAGE_DEFAULT, PHOTOS_PAGE_MAX, type PhotosService } from './photos.service.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(PHOTOS_PAGE_MAX).default(PHOTOS_PAGE_DEFAULT),
  cursor: z.string().max(2048).optional(),
});

export function photosRoutes(app: FastifyInstance, deps: { photos: PhotosService; requireUser: Guard }): void {
  const { photos, requireUser } = deps;

  app.register(async (scope) => {
    // Image bodies are streamed to the object store, never buffered; any other type
    // reaches the service too, so the refusal is ours (415 with the accepted types).
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/photos', { preHandler: requireUser }, async (request, reply) => {
      const length = request.headers['content-length'];
      const body = request.body as Readable | undefined;
      try {
        if (!body || typeof (body as Readable).pipe !== 'function') {
          throw new DomainError(
            'unsupported_media_type',
            'upload the image bytes as the body, with an image Content-Type',
          );
        }
        const record = await photos.upload({
          owner: user(request).username,
          claimedType: request.headers['content-type']?.split(';')[0]?.trim().toLowerCase(),
          declaredLength: length !== undefined ? Number(length) : undefined,
          body,
        });
        request.log.info({ photoId: record.photoId, size: record.size, owner: record.owner }, 'photo uploaded');
        return reply.code(201).send(record);
      } catch (err) {
        // The rest of the body was not read: close the connection after answering.
        if (body && !body.readableEnded) reply.header('connection', 'close');
        throw err;
      }
    });
  });

  app.get('/photos', { preHandler: requireUser }, async (request) => {
    const q = parseWith(listQuery, request.query, 'query');
    return photos.list(q.limit, q.cursor ?? null);
  });

  app.get('/photos/:photoId', { preHandler: requireUser }, async (request) => photos.get(photoId(request)));

  const serveFile = (kind: PhotoFile) => async (request: FastifyRequest, reply: FastifyReply) => {
    const id = photoId(request);
    const meta = await photos.head(id, kind);
    const etag = `"${meta.sha256}"`;
    reply
      .header('etag', etag)
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('accept-ranges', 'bytes')
      .type(meta.contentType ?? 'application/octet-stream');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const range = parseRange(request.headers.range, meta.size);
    const { body } = await photos.open(id, kind, range);
    if (range) {
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`)
        .header('content-length', String(range.end - range.start + 1));
    } else {
      reply.header('content-length', String(meta.size));
    }
    return reply.send(body);
  };
  app.get('/photos/:photoId/image', { preHandler: requireUser }, serveFile('original'));
  app.get('/photos/:photoId/thumbnail', { preHandler: requireUser }, serveFile('thumbnail'));

  app.delete('/photos/:photoId', { preHandler: requireUser }, async (request, reply) => {
    const id = photoId(request);
    await photos.delete(id, user(request));
    request.log.info({ photoId: id, by: user(request).username }, 'photo deleted');
    return reply.code(204).send();
  });
}
