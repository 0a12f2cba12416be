/**
 * @module Sign-in, the signed-in user, password change and admin-created users.
 * Sign-in is rate-limited per address and per username.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { user } from '../http/auth-guards.js';
import { parseWith } from '../http/validation.js';
import type { Stamp } from '../ports/table-store.js';
import type { AuthService } from './auth.service.js';
import { SignInLimits } from './signin-limits.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const signInBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const createUserBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().optional(),
  role: z.enum(['user', 'admin']).optional(),
});
const passwordBody = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: z.string().max(256) });

export function authRoutes(
  app: FastifyInstance,
  deps: { auth: AuthService; requireUser: Guard; requireAdmin: Guard; stamp: Stamp },
): void {
  const { auth } = deps;
  const limits = new SignInLimits();

  app.post('/auth/signin', async (request) => {
    const body = parseWith(signInBody, request.body);
    await limits.attempt(request.ip, body.username);
    const result = await auth.signIn(body.username, body.password);
    request.log.info({ username: result.user.username }, 'signed in');
    return result;
  });

  app.get('/auth/me', { preHandler: deps.requireUser }, async (request) => auth.me(user(request)));

  app.post('/auth/password', { preHandler: deps.requireUser }, async (request) => {
    const body = parseWith(passwordBody, request.body);
    return auth.changePassword(user(request), body.currentPassword, body.newPassword, deps.stamp);
  });

  app.post('/users', { preHandler: deps.requireAdmin }, async (request, reply) => {
    const body = parseWith(createUserBody, request.body);
    const created = await auth.createUser(body, deps.stamp);
    request.log.info({ username: created.user.username, by: user(request).username }, 'user created');
    return reply.code(201).send({ ...created.user, ...(created.password ? { password: created.password } : {}) });
  });
}
