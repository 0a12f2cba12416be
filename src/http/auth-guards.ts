/**
 * @module Route guards: who may call a route. The signed-in user is taken from the
 * bearer token (never from a body) and attached to the request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';

/** Who made a request, as far as the guards need to know: auth's session user fits. */
export interface RequestUser {
  username: string;
  role: 'admin' | 'user';
  /** A user who must change the password first may call only routes guarded by `requireSignedIn`. */
  mustChangePassword?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: RequestUser;
  }
}

/** Turns a bearer token into its user, or throws `unauthenticated`. */
export type TokenVerifier = (token: string) => Promise<RequestUser>;

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

export function guards(verify: TokenVerifier) {
  /** Any valid session, even one that must change its password first (/auth/me, /auth/password, sign-out). */
  async function requireSignedIn(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (!token) throw new DomainError('unauthenticated', 'sign in first: this route needs a bearer token');
    request.user = await verify(token);
  }
  async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await requireSignedIn(request, reply);
    if (request.user!.mustChangePassword)
      throw new DomainError('password_change_required', 'change your password first (POST /auth/password)');
  }
  async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await requireUser(request, reply);
    if (request.user!.role !== 'admin') throw new DomainError('forbidden', 'this route is for administrators');
  }
  /** Loopback callers, or an administrator from anywhere (for /metrics). */
  async function requireLoopbackOrAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isLoopback(request.socket.remoteAddress) && !request.headers['x-forwarded-for']) return;
    await requireAdmin(request, reply);
  }
  return { requireSignedIn, requireUser, requireAdmin, requireLoopbackOrAdmin };
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return (
    address === 'localhost' ||
    address === '::1' ||
    address === '[::1]' ||
    address.startsWith('127.') ||
    address.startsWith('::ffff:127.')
  );
}

export function user(request: FastifyRequest): RequestUser {
  if (!request.user) throw new DomainError('unauthenticated', 'sign in first');
  return request.user;
}
