/**
 * Sessions that end (issue 13): a token names its user's session generation; a
 * password change, a role change, a sign-out and a removal end the user's tokens in
 * every region as the user replicates; the role comes from the stored user; a user who
 * must change the password can do nothing else first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS_TABLE } from '../../src/auth/users.repository.js';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { waitFor } from '../helpers/wait.js';

describe('sessions that end', { timeout: 120_000 }, () => {
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
    admin = (await signIn(primary, 'admin', ADMIN_PASSWORD)).token;
  });
  afterAll(async () => fx.close());

  async function signIn(url: string, username: string, password: string) {
    const res = await call(url, 'POST', '/auth/signin', { json: { username, password } });
    expect(res.status).toBe(200);
    return res.body as { token: string; user: { role: string } };
  }

  /** A user with a password of their own (created, then the forced change done), replicated everywhere. */
  async function user(username: string, role: 'user' | 'admin' = 'user'): Promise<{ token: string; password: string }> {
    const password = `${username}-password-1`;
    const created = await call(primary, 'POST', '/users', { json: { username, password, role }, token: admin });
    expect(created.status).toBe(201);
    await replicated(username, (u) => u !== undefined);
    return { token: (await signIn(primary, username, password)).token, password };
  }

  /** Waits until the secondary holds the user as `ok` says. */
  async function replicated(username: string, ok: (u: Record<string, unknown> | undefined) => boolean) {
    await waitFor(`${username} replicated`, async () =>
      ok(await fx.regions.get('ap-northeast-1')!.storage.tables.get(USERS_TABLE, username)),
    );
  }

  const status = async (url: string, token: string, path = '/photos') =>
    (await call(url, 'GET', path, { token })).status;

  it('a password change ends every earlier token in every region and answers with a new one', async () => {
    const alice = await user('alice');
    expect(await status(primary, alice.token)).toBe(200);
    expect(await status(secondary, alice.token)).toBe(200);
    const changed = await call(primary, 'POST', '/auth/password', {
      json: { currentPassword: alice.password, newPassword: 'alice-password-2' },
      token: alice.token,
    });
    expect(changed.status).toBe(200);
    expect(await status(primary, alice.token)).toBe(401);
    await replicated('alice', (u) => u?.sessionGen === 1);
    const ended = await call(secondary, 'GET', '/photos', { token: alice.token });
    expect(ended.status).toBe(401);
    expect(ended.body.error).toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/session has ended/),
    });
    expect(await status(primary, changed.body.token)).toBe(200);
    expect(await status(secondary, changed.body.token)).toBe(200);
  });

  it('a token issued after a change a region has not received yet is taken on its own claims', async () => {
    // The new token names generation 1; a region still at 0 (lag) accepts it: it is newer than what it holds.
    const bob = await user('bob');
    await fx.stop('ap-northeast-1');
    const changed = await call(primary, 'POST', '/auth/password', {
      json: { currentPassword: bob.password, newPassword: 'bob-password-2' },
      token: bob.token,
    });
    expect(changed.status).toBe(200);
    await fx.start('ap-northeast-1');
    // Either it was not replicated yet (taken on its claims) or it was: both accept the new token.
    expect(await status(secondary, changed.body.token)).toBe(200);
    await replicated('bob', (u) => u?.sessionGen === 1);
    expect(await status(secondary, bob.token)).toBe(401);
  });

  it('a role change ends the sessions, and the role is read from the stored user', async () => {
    const carol = await user('carol', 'admin');
    expect((await call(primary, 'GET', '/status', { token: carol.token })).status).toBe(200);
    const demoted = await call(primary, 'PUT', '/users/carol/role', { json: { role: 'user' }, token: admin });
    expect(demoted.status).toBe(200);
    expect(demoted.body.role).toBe('user');
    expect((await call(primary, 'GET', '/status', { token: carol.token })).status).toBe(401);
    await replicated('carol', (u) => u?.role === 'user');
    expect((await call(secondary, 'GET', '/status', { token: carol.token })).status).toBe(401);
    const again = await signIn(primary, 'carol', carol.password);
    expect(again.user.role).toBe('user');
    expect((await call(primary, 'GET', '/status', { token: again.token })).status).toBe(403);
    // A token minted (with the key) claiming admin for a stored user at its generation gets the stored role.
    const claimed = await fx.token('carol', 'admin');
    expect((await call(primary, 'GET', '/auth/me', { token: claimed })).status).toBe(401); // generation 0 < 1
  });

  it('an admin signs a user out everywhere (POST /users/{username}/sign-out)', async () => {
    const dave = await user('dave');
    const other = (await signIn(secondary, 'dave', dave.password)).token;
    expect(await status(secondary, other)).toBe(200);
    expect((await call(primary, 'POST', '/users/dave/sign-out', { token: dave.token })).status).toBe(403);
    const out = await call(primary, 'POST', '/users/dave/sign-out', { token: admin });
    expect(out.status).toBe(200);
    await replicated('dave', (u) => u?.sessionGen === 1);
    for (const url of [primary, secondary]) {
      expect(await status(url, dave.token)).toBe(401);
      expect(await status(url, other)).toBe(401);
    }
    expect(await status(primary, (await signIn(primary, 'dave', dave.password)).token)).toBe(200);
  });

  it('an admin resets a lost password (POST /users/{username}/password): a generated one, sessions ended, to be changed', async () => {
    const gina = await user('gina');
    expect((await call(primary, 'POST', '/users/gina/password', { token: gina.token, json: {} })).status).toBe(403);
    const reset = await call(primary, 'POST', '/users/gina/password', { token: admin, json: {} });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ username: 'gina', mustChangePassword: true });
    const generated = reset.body.password as string;
    expect(generated.length).toBeGreaterThanOrEqual(12);
    await replicated('gina', (u) => u?.mustChangePassword === true);
    for (const url of [primary, secondary]) expect(await status(url, gina.token)).toBe(401);
    expect(
      (await call(primary, 'POST', '/auth/signin', { json: { username: 'gina', password: gina.password } })).status,
    ).toBe(401);
    const fresh = (await signIn(primary, 'gina', generated)).token;
    expect((await call(primary, 'GET', '/photos', { token: fresh })).status).toBe(403);
    expect((await call(primary, 'POST', '/users/nobody/password', { token: admin, json: {} })).status).toBe(404);
  });

  it('a user signs out everywhere themselves (POST /auth/signout)', async () => {
    const erin = await user('erin');
    expect((await call(primary, 'POST', '/auth/signout', { token: erin.token })).status).toBe(204);
    expect(await status(primary, erin.token)).toBe(401);
  });

  it('a removed user can neither use a token nor sign in, and a new user of that name does not inherit them', async () => {
    const frank = await user('frank');
    expect((await call(primary, 'DELETE', '/users/frank', { token: frank.token })).status).toBe(403);
    expect((await call(primary, 'DELETE', '/users/frank', { token: admin })).status).toBe(204);
    expect((await call(primary, 'DELETE', '/users/frank', { token: admin })).status).toBe(404);
    await replicated('frank', (u) => u?.removed === true);
    for (const url of [primary, secondary]) {
      expect(await status(url, frank.token)).toBe(401);
      expect(
        (await call(url, 'POST', '/auth/signin', { json: { username: 'frank', password: frank.password } })).status,
      ).toBe(401);
    }
    const list = await call(primary, 'GET', '/users', { token: admin });
    expect(list.body.users.map((u: { username: string }) => u.username)).not.toContain('frank');
    const again = await call(primary, 'POST', '/users', {
      json: { username: 'frank', password: 'frank-password-9' },
      token: admin,
    });
    expect(again.status).toBe(201);
    expect(await status(primary, frank.token)).toBe(401);
    expect(await status(primary, (await signIn(primary, 'frank', 'frank-password-9')).token)).toBe(200);
    expect((await call(primary, 'DELETE', '/users/admin', { token: admin })).status).toBe(409);
  });

  it('a user who must change the password can only see themselves, change it, or sign out (403 password_change_required)', async () => {
    const created = await call(primary, 'POST', '/users', { json: { username: 'grace' }, token: admin });
    const first = await signIn(primary, 'grace', created.body.password);
    for (const [method, path] of [
      ['GET', '/photos'],
      ['POST', '/comments/0000000000000000000000000'],
      ['GET', '/comments/0000000000000000000000000'],
    ] as const) {
      const res = await call(primary, method, path, {
        token: first.token,
        ...(method === 'POST' ? { json: { message: 'hi' } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('password_change_required');
    }
    expect((await call(primary, 'GET', '/auth/me', { token: first.token })).body.mustChangePassword).toBe(true);
    const changed = await call(primary, 'POST', '/auth/password', {
      json: { currentPassword: created.body.password, newPassword: 'grace-password-2' },
      token: first.token,
    });
    expect(changed.status).toBe(200);
    expect(await status(primary, changed.body.token)).toBe(200);
  });

  it('an operator token (minted from the configuration by the CLI) needs no stored user', async () => {
    const { TokenSigner } = await import('../../src/auth/tokens.js');
    const op = await new TokenSigner(fx.config.secrets.tokenKey, fx.config.appId, 60).issue({
      username: 'operator',
      role: 'admin',
      operator: true,
    });
    expect((await call(primary, 'GET', '/status', { token: op.token })).status).toBe(200);
  });
});

describe('token key rotation (secrets.previousTokenKeys)', { timeout: 60_000 }, () => {
  const OLD = 'old-token-key-'.padEnd(43, 'o');
  let fx: Fixture;
  let url: string;

  beforeAll(async () => {
    fx = await createFixture((c) => ({ ...c, secrets: { ...c.secrets, previousTokenKeys: [OLD] } }));
    await fx.start('us-east-1');
    url = fx.url('us-east-1');
  });
  afterAll(async () => fx.close());

  it('accepts a token signed with a previous key, signs new ones with the current key, refuses other keys', async () => {
    const { TokenSigner } = await import('../../src/auth/tokens.js');
    const old = await new TokenSigner(OLD, fx.config.appId, 60).issue({ username: 'admin', role: 'admin' });
    expect((await call(url, 'GET', '/status', { token: old.token })).status).toBe(200);
    const other = await new TokenSigner('x'.repeat(43), fx.config.appId, 60).issue({
      username: 'admin',
      role: 'admin',
    });
    expect((await call(url, 'GET', '/status', { token: other.token })).status).toBe(401);
    const fresh = (await call(url, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } }))
      .body.token as string;
    const current = new TokenSigner(fx.config.secrets.tokenKey, fx.config.appId, 60);
    expect((await current.verify(fresh)).username).toBe('admin');
    await expect(new TokenSigner(OLD, fx.config.appId, 60).verify(fresh)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });
});
