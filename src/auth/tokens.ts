/**
 * @module Signed session tokens (JWT, HS256) valid in every region: each region
 * verifies them with the token key from the shared configuration. A token names its
 * user's session generation (`gen`): the auth service refuses it once the stored user's
 * generation has moved past it. During a key rotation tokens signed with a previous key
 * (`secrets.previousTokenKeys`) are still accepted; new ones are signed with the current.
 */
import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../core/errors.js';

export type Role = 'admin' | 'user';

export interface TokenClaims {
  username: string;
  role: Role;
  /** The user's session generation when the token was issued (0 for a token that names none). */
  gen: number;
  /** Issued to a user who must change the password before anything else. */
  mustChangePassword?: true;
  /**
   * Minted by the operator's CLI from the configuration's key (src/cli/deployment.ts),
   * not issued to a stored user: an administrator with no generation to check.
   */
  operator?: true;
}

export type ClaimsToIssue = Omit<TokenClaims, 'gen'> & { gen?: number };

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

const ISSUER = 'mraa';
const VERIFIED_CACHE_SIZE = 10_000;

/** Names a key without revealing it: the first 8 characters of its SHA-256. */
export function keyId(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 8);
}

interface SigningKey {
  id: string;
  key: Promise<CryptoKey>;
}

function importKey(secret: string): SigningKey {
  return {
    id: keyId(secret),
    key: crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]),
  };
}

export class TokenSigner {
  /** Imported once: importing the raw key on every call dominated the cost of a verify. */
  private readonly current: SigningKey;
  private readonly keys: SigningKey[];

  constructor(
    secret: string,
    private readonly audience: string,
    private readonly ttlSeconds: number,
    previousSecrets: readonly string[] = [],
  ) {
    this.current = importKey(secret);
    this.keys = [this.current, ...previousSecrets.map(importKey)];
  }

  async issue(claims: ClaimsToIssue): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({
      role: claims.role,
      gen: claims.gen ?? 0,
      ...(claims.mustChangePassword ? { mcp: true } : {}),
      ...(claims.operator ? { op: true } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', kid: this.current.id })
      .setSubject(claims.username)
      .setIssuer(ISSUER)
      .setAudience(this.audience)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(await this.current.key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /**
   * A verified token's claims are remembered until it expires: a WebCrypto verify costs
   * ~0.4 ms (a thread-pool round trip), paid once per token rather than once per request.
   * Whether its session still holds is the auth service's question, asked every time.
   */
  private readonly verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();

  async verify(token: string): Promise<TokenClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt > Date.now()) return cached.claims;
      this.verified.delete(token);
    }
    return this.verifySignature(token);
  }

  /** Drops a token from the cache (its session ended): the next verify starts again. */
  forget(token: string): void {
    this.verified.delete(token);
  }

  private async verifySignature(token: string): Promise<TokenClaims> {
    try {
      const payload = await this.verifyWithKeys(token);
      const { role, gen } = payload;
      if (typeof payload.sub !== 'string' || (role !== 'admin' && role !== 'user')) throw new Error('claims');
      if (gen !== undefined && !(Number.isSafeInteger(gen) && (gen as number) >= 0)) throw new Error('claims');
      const claims: TokenClaims = {
        username: payload.sub,
        role,
        gen: (gen as number | undefined) ?? 0,
        ...(payload.mcp === true ? { mustChangePassword: true as const } : {}),
        ...(payload.op === true ? { operator: true as const } : {}),
      };
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

  /** The key the token names, or (a token from before key ids) each key in turn. */
  private async verifyWithKeys(token: string) {
    const kid = decodeProtectedHeader(token).kid;
    const named = this.keys.filter((k) => k.id === kid);
    const candidates = named.length > 0 ? named : kid === undefined ? this.keys : [];
    if (candidates.length === 0) throw new Error('unknown key');
    let last: unknown;
    for (const k of candidates) {
      try {
        const { payload } = await jwtVerify(token, await k.key, {
          issuer: ISSUER,
          audience: this.audience,
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
        });
        return payload;
      } catch (err) {
        last = err;
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
      }
    }
    throw last;
  }
}
