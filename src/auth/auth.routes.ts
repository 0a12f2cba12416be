/**
 * @module Sign-in, the signed-in user, password change, sign-out, and the users an
 * administrator manages (create, list, change role, sign out, remove). Sign-in is
 * rate-limited per address and per username. A user who must change the password may
 * call only /auth/me, /auth/password and /auth/signout (403 `password_change_required`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { user } from '../http/auth-guards.js';
import { SMALL_JSON_BODY_LIMIT } from '../http/json-body.js';
import { addressKey } from '../http/limits.js';
import { parseWith } from '../http/validation.js';
import type { Stamp } from '../ports/table-store.js';
import type { AuthService } from './auth.service.js';
import { SignInLimits } from './signin-limits.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const signInBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const createUserBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().max(256).optional(),
  role: z.enum(['user', 'admin']).optional(),
});
const passwordBody = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: z.string().max(256) });
const roleBody = z.strictObject({ role: z.enum(['user', 'admin']) });
const resetBody = z.strictObject({ password: z.string().max(256).optional() });
const userParams = z.object({ username: z.string().min(1).max(64) });

const small = { bodyLimit: SMALL_JSON_BODY_LIMIT };

export function authRoutes(
  app: FastifyInstance,
  deps: {
    auth: AuthService;
    requireSignedIn: Guard;
    requireUser: Guard;
    requireAdmin: Guard;
    stamp: Stamp;
  },
): void {
  const { auth } = deps;
  const limits = new SignInLimits();
  const admin = { ...small, preHandler: deps.requireAdmin };

  app.post('/auth/signin', small, async (request) => {
    const body = parseWith(signInBody, request.body);
    await limits.attempt(addressKey(request.ip), body.username);
    const result = await auth.signIn(body.username, body.password);
    request.log.info({ username: result.user.username }, 'signed in');
    return result;
  });

  app.get('/auth/me', { preHandler: deps.requireSignedIn }, async (request) => auth.me(user(request)));

  /** Ends every session of the user, this one included, and answers with a new one. */
  app.post('/auth/password', { ...small, preHandler: deps.requireSignedIn }, async (request) => {
    const body = parseWith(passwordBody, request.body);
    const result = await auth.changePassword(
      user(request).username,
      body.currentPassword,
      body.newPassword,
      deps.stamp,
    );
    request.log.info({ username: result.user.username }, 'password changed: earlier sessions ended');
    return result;
  });

  /** Signs the user out everywhere: every token of theirs ends. */
  app.post('/auth/signout', { preHandler: deps.requireSignedIn }, async (request, reply) => {
    const { username } = user(request);
    await auth.signOut(username, deps.stamp);
    request.log.info({ username }, 'signed out everywhere');
    return reply.code(204).send();
  });

  app.get('/users', { preHandler: deps.requireAdmin }, async () => ({ users: await auth.listUsers() }));

  app.post('/users', admin, async (request, reply) => {
    const body = parseWith(createUserBody, request.body);
    const created = await auth.createUser(body, deps.stamp);
    request.log.info({ username: created.user.username, by: user(request).username }, 'user created');
    return reply.code(201).send({ ...created.user, ...(created.password ? { password: created.password } : {}) });
  });

  app.put('/users/:username/role', admin, async (request) => {
    const { username } = parseWith(userParams, request.params, 'path');
    const { role } = parseWith(roleBody, request.body);
    const updated = await auth.setRole(username, role, deps.stamp);
    request.log.info({ username, role, by: user(request).username }, 'role changed: earlier sessions ended');
    return updated;
  });

  /** A new password (generated unless given, shown once) that the user must change; their sessions end. */
  app.post('/users/:username/password', admin, async (request) => {
    const { username } = parseWith(userParams, request.params, 'path');
    const body = parseWith(resetBody, request.body ?? {});
    const reset = await auth.resetPassword(username, body.password, deps.stamp);
    request.log.info({ username, by: user(request).username }, 'password reset: earlier sessions ended');
    return { ...reset.user, ...(reset.password ? { password: reset.password } : {}) };
  });

  app.post('/users/:username/sign-out', { preHandler: deps.requireAdmin }, async (request) => {
    const { username } = parseWith(userParams, request.params, 'path');
    const updated = await auth.signOut(username, deps.stamp);
    request.log.info({ username, by: user(request).username }, 'user signed out everywhere');
    return updated;
  });

  app.delete('/users/:username', { preHandler: deps.requireAdmin }, async (request, reply) => {
    const { username } = parseWith(userParams, request.params, 'path');
    await auth.removeUser(username, deps.stamp);
    request.log.info({ username, by: user(request).username }, 'user removed: their sessions ended');
    return reply.code(204).send();
  });
}
