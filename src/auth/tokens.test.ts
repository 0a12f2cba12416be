import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenSigner } from './tokens.js';

const SECRET = 's'.repeat(43);

describe('session tokens', () => {
  afterEach(() => vi.useRealTimers());

  it('verifies its own tokens, in any region holding the same key', async () => {
    const { token } = await new TokenSigner(SECRET, 'photos', 60).issue({ username: 'alice', role: 'user' });
    expect(await new TokenSigner(SECRET, 'photos', 60).verify(token)).toEqual({ username: 'alice', role: 'user' });
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
});
