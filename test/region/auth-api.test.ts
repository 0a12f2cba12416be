/**
 * Users and sign-in: hashed passwords, tokens valid in every region, rate limits,
 * and the write-admission guard on user writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS_TABLE } from '../../src/auth/users.repository.js';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';

describe('auth and users API', () => {
  let fx: Fixture;
  let primary: string;
  let secondary: string;
  let admin: string;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start('us-east-1');
    await fx.start('ap-northeast-1');
    primary = fx.url('us-east-1');
    secondary = fx.url('ap-northeast-1');
    admin = (await call(primary, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } }))
      .body.token;
  });
  afterAll(async () => fx.close());

  it('created admin at first start, with a scrypt hash, and signs it in', async () => {
    const stored = await fx.regions
      .get('us-east-1')!
      .storage.tables.get<{ passwordHash: string }>(USERS_TABLE, 'admin');
    expect(stored?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored?.passwordHash).not.toContain(ADMIN_PASSWORD);
    const me = await call(primary, 'GET', '/auth/me', { token: admin });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin' });
    expect(me.body).not.toHaveProperty('passwordHash');
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const wrong = await call(primary, 'POST', '/auth/signin', {
      json: { username: 'admin', password: 'not-it-at-all' },
    });
    const unknown = await call(primary, 'POST', '/auth/signin', {
      json: { username: 'nobody', password: 'whatever-it-is' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('accepts a token signed in one region in every other region', async () => {
    const me = await call(secondary, 'GET', '/auth/me', { token: admin });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('admin');
  });

  it('lets an admin create users, with a generated password to change at first sign-in', async () => {
    const created = await call(primary, 'POST', '/users', { json: { username: 'alice' }, token: admin });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'alice', role: 'user', mustChangePassword: true });
    expect(typeof created.body.password).toBe('string');
    const signin = await call(primary, 'POST', '/auth/signin', {
      json: { username: 'alice', password: created.body.password },
    });
    expect(signin.status).toBe(200);
    expect(signin.body.user.mustChangePassword).toBe(true);
    const alice = signin.body.token;
    const changed = await call(primary, 'POST', '/auth/password', {
      json: { currentPassword: created.body.password, newPassword: 'alice-new-password' },
      token: alice,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.user.mustChangePassword).toBeUndefined();
    expect(typeof changed.body.token).toBe('string');
    expect(
      (await call(primary, 'POST', '/auth/signin', { json: { username: 'alice', password: 'alice-new-password' } }))
        .status,
    ).toBe(200);
    const forbidden = await call(primary, 'POST', '/users', {
      json: { username: 'mallory' },
      token: changed.body.token,
    });
    expect(forbidden.status).toBe(403);
    const dup = await call(primary, 'POST', '/users', { json: { username: 'alice' }, token: admin });
    expect(dup.status).toBe(409);
    const bad = await call(primary, 'POST', '/users', { json: { username: '../etc' }, token: admin });
    expect(bad.status).toBe(400);
  });

  it('refuses user writes in a passive region with 421 naming the active one', async () => {
    const res = await call(secondary, 'POST', '/users', { json: { username: 'bob' }, token: admin });
    expect(res.status).toBe(421);
    expect(res.body.error).toMatchObject({ code: 'not_active_region', activeRegion: 'us-east-1', activeUrl: primary });
  });

  it('refuses user writes while fenced with 503 and Retry-After', async () => {
    expect((await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' }, token: admin })).status).toBe(200);
    const res = await call(primary, 'POST', '/users', { json: { username: 'carol' }, token: admin });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('fenced');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(primary, 'PUT', '/state/photos', { json: { state: 'active' }, token: admin })).status).toBe(200);
    expect((await call(primary, 'POST', '/users', { json: { username: 'carol' }, token: admin })).status).toBe(201);
  });

  it('rate-limits sign-in per user, whatever the address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (await call(primary, 'POST', '/auth/signin', { json: { username: 'victim', password: `guess-${i}-xx` } }))
          .status,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const limited = await call(primary, 'POST', '/auth/signin', {
      json: { username: 'victim', password: 'x-x-x-x-x' },
    });
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user from the same address is not locked out by it.
    expect(
      (await call(primary, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } })).status,
    ).toBe(200);
  });

  it('rate-limits sign-in per address across usernames', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      statuses.push(
        (await call(secondary, 'POST', '/auth/signin', { json: { username: `user${i}`, password: 'whatever-xx' } }))
          .status,
      );
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });
});
