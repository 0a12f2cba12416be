/**
 * @module The photo id in a route's path (`/photos/:photoId`, `/comments/:photoId`):
 * one that cannot be a photo id answers 404, as a photo that does not exist does.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';

const photoIdParams = z.object({ photoId: z.string().regex(/^[0-9a-z]{1,64}$/, 'not a photo id') });

export function photoId(request: FastifyRequest): string {
  const parsed = photoIdParams.safeParse(request.params);
  if (!parsed.success) throw new DomainError('not_found', 'no such photo');
  return parsed.data.photoId;
}
