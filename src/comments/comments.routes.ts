/**
 * @module The comments API: `GET /comments/{photoId}` (oldest first) and
 * `POST /comments/{photoId}` with `{message}`; the author is the signed-in user.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { user } from '../http/auth-guards.js';
import { parseWith } from '../http/validation.js';
import { photoId } from '../photos/photo-id.js';
import type { Stamp } from '../ports/table-store.js';
import type { CommentsService } from './comments.service.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** A 20,000-character message, every character escaped (`\uXXXX`), with room to spare. */
export const COMMENT_BODY_LIMIT = 128 * 1024;

const commentBody = z.strictObject({ message: z.string({ error: 'message must be a string' }).max(20_000) });
const listQuery = z.object({ cursor: z.string().max(2048).optional() });

export function commentsRoutes(
  app: FastifyInstance,
  deps: { comments: CommentsService; requireUser: Guard; stamp: Stamp },
): void {
  app.get('/comments/:photoId', { preHandler: deps.requireUser }, async (request) => {
    const q = parseWith(listQuery, request.query, 'query');
    return deps.comments.list(photoId(request), q.cursor ?? null);
  });

  app.post(
    '/comments/:photoId',
    { preHandler: deps.requireUser, bodyLimit: COMMENT_BODY_LIMIT },
    async (request, reply) => {
      const id = photoId(request);
      const body = parseWith(commentBody, request.body);
      const comment = await deps.comments.add(id, user(request).username, body.message, deps.stamp);
      return reply.code(201).send(comment);
    },
  );
}
