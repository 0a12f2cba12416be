/**
 * @module Signed session tokens (JWT, HS256) valid in every region: each region
 * verifies them with the token key from the shared configuration.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../core/errors.js';

export type Role = 'admin' | 'user';

export interface TokenClaims {
  username: string;
  role: Role;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

const ISSUER = 'mraa';
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenSigner {
  /** Imported once: importing the raw key on every call dominated the cost of a verify. */
  private readonly key: Promise<CryptoKey>;

  constructor(
    secret: string,
    private readonly audience: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
  }

  async issue(claims: TokenClaims): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.username)
      .setIssuer(ISSUER)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(await this.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /**
   * A verified token's claims are remembered until it expires: a WebCrypto verify costs
   * ~0.4 ms (a thread-pool round trip), paid once per token rather than once per request.
   */
  private readonly verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();

  async verify(token: string): Promise<TokenClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt > Date.now()) return cached.claims;
      this.verified.delete(token);
    }
    const claims = await this.verifySignature(token);
    return claims;
  }

  private async verifySignature(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        issuer: ISSUER,
        audience: this.audience,
        algorithms: ['HS256'],
      });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || (role !== 'admin' && role !== 'user')) throw new Error('claims');
      const claims: TokenClaims = { username: payload.sub, role };
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, expiresAt: (payload.exp ?? 0) * 1000 });
      return claims;
    } catch (err) {
      const expired = err instanceof errors.JWTExpired;
      throw new DomainError(
        'unauthenticated',
        expired ? 'the token has expired; sign in again' : 'the token is not valid',
      );
    }
  }
}
