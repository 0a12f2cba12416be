import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyId, TokenSigner } from './tokens.js';

const SECRET = 's'.repeat(43);

describe('session tokens', () => {
  afterEach(() => vi.useRealTimers());

  it('verifies its own tokens, in any region holding the same key', async () => {
    const { token } = await new TokenSigner(SECRET, 'photos', 60).issue({ username: 'alice', role: 'user' });
    expect(await new TokenSigner(SECRET, 'photos', 60).verify(token)).toEqual({
      username: 'alice',
      role: 'user',
      gen: 0,
    });
  });

  it('refuses a token signed with another key, for another app, or tampered with', async () => {
    const { token } = await new TokenSigner('x'.repeat(43), 'photos', 60).issue({ username: 'alice', role: 'admin' });
    const signer = new TokenSigner(SECRET, 'photos', 60);
    await expect(signer.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
    const other = await new TokenSigner(SECRET, 'other-app', 60).issue({ username: 'alice', role: 'admin' });
    await expect(signer.verify(other.token)).rejects.toMatchObject({ code: 'unauthenticated' });
    const mine = await signer.issue({ username: 'alice', role: 'user' });
    const [h, p, sig] = mine.token.split('.');
    const elevated = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'admin' }),
    ).toString('base64url');
    await expect(signer.verify(`${h}.${elevated}.${sig}`)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses an expired token even after it was verified (and remembered)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T10:00:00Z'));
    const signer = new TokenSigner(SECRET, 'photos', 60);
    const { token } = await signer.issue({ username: 'alice', role: 'user' });
    expect((await signer.verify(token)).username).toBe('alice');
    vi.setSystemTime(new Date('2026-11-27T10:01:01Z'));
    await expect(signer.verify(token)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/expired/),
    });
  });

  it('names the session generation, the forced password change and an operator token in its claims', async () => {
    const signer = new TokenSigner(SECRET, 'photos', 60);
    const { token } = await signer.issue({ username: 'bob', role: 'user', gen: 7, mustChangePassword: true });
    expect(await signer.verify(token)).toEqual({ username: 'bob', role: 'user', gen: 7, mustChangePassword: true });
    const op = await signer.issue({ username: 'operator', role: 'admin', operator: true });
    expect(await signer.verify(op.token)).toMatchObject({ operator: true, gen: 0 });
  });

  it('refuses unsigned (alg none), other-algorithm and malformed tokens', async () => {
    const signer = new TokenSigner(SECRET, 'photos', 60);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 60;
    const payload = b64({ sub: 'admin', role: 'admin', gen: 0, iss: 'mraa', aud: 'photos', exp });
    for (const token of [
      `${b64({ alg: 'none' })}.${payload}.`,
      `${b64({ alg: 'none', kid: keyId(SECRET) })}.${payload}.`,
      `${b64({ alg: 'HS512', kid: keyId(SECRET) })}.${payload}.${'A'.repeat(86)}`,
      `${b64({ alg: 'HS256', kid: keyId(SECRET) })}.${payload}.${'A'.repeat(43)}`,
      'not-a-token',
      '..',
      `${b64({ alg: 'HS256', crit: ['b64'], b64: false })}.${payload}.x`,
    ]) {
      await expect(signer.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('accepts tokens of a previous key during a rotation, and signs with the new one', async () => {
    const OLD = 'o'.repeat(43);
    const old = await new TokenSigner(OLD, 'photos', 60).issue({ username: 'alice', role: 'user' });
    const rotating = new TokenSigner(SECRET, 'photos', 60, [OLD]);
    expect((await rotating.verify(old.token)).username).toBe('alice');
    const fresh = await rotating.issue({ username: 'alice', role: 'user' });
    expect((await new TokenSigner(SECRET, 'photos', 60).verify(fresh.token)).username).toBe('alice');
    // Once the previous key is dropped, its tokens are refused.
    await expect(new TokenSigner(SECRET, 'photos', 60).verify(old.token)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });
});
