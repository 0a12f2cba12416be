/**
 * @module Signed session tokens (JWT, HS256) valid in every region: each region
 * verifies them with the token key from the shared configuration.
 */
import { SignJWT, jwtVerify, errors } from 'jose';
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

export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly audience: string, private readonly ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret);
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
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: this.audience, algorithms: ['HS256'] });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || (role !== 'admin' && role !== 'user')) throw new Error('claims');
      return { username: payload.sub, role };
    } catch (err) {
      const expired = err instanceof errors.JWTExpired;
      throw new DomainError('unauthenticated', expired ? 'the token has expired; sign in again' : 'the token is not valid');
    }
  }
}
