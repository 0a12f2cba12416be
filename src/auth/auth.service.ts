/**
 * @module Sign-in, the signed-in user, and admin-created users (the counterpart of
 * the reference solution's Cognito user pool), replicated like any table.
 */
import { DomainError } from '../core/errors.js';
import type { Stamp } from '../ports/table-store.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';
import type { IssuedToken, Role, TokenClaims, TokenSigner } from './tokens.js';
import { type PublicUser, toPublicUser, type UserRecord, type UsersRepository } from './users.repository.js';

export const ADMIN_USERNAME = 'admin';
export const USERNAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

// Verified against when the user does not exist, so a miss costs as much as a hit.
const DUMMY_HASH = hashPassword('not a real password');

export interface SignInResult extends IssuedToken {
  user: PublicUser;
}

export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenSigner,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async signIn(username: string, password: string): Promise<SignInResult> {
    const user = await this.users.get(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await DUMMY_HASH));
    if (!user || !ok) throw new DomainError('unauthenticated', 'wrong username or password');
    const issued = await this.tokens.issue({ username: user.username, role: user.role });
    return { ...issued, user: toPublicUser(user) };
  }

  verifyToken(token: string): Promise<TokenClaims> {
    return this.tokens.verify(token);
  }

  async me(claims: TokenClaims): Promise<PublicUser> {
    const user = await this.users.get(claims.username);
    // A token outlives replication lag: a user created moments ago elsewhere is still known by its token.
    return user ? toPublicUser(user) : { username: claims.username, role: claims.role, createdAt: '' };
  }

  /** Create a user; without a password one is generated, returned once, and must be changed at first sign-in. */
  async createUser(
    input: { username: string; password?: string; role?: Role },
    stamp: Stamp,
  ): Promise<{ user: PublicUser; password?: string }> {
    checkUsername(input.username);
    if (input.password !== undefined) checkPassword(input.password);
    const generated = input.password === undefined ? generatePassword() : undefined;
    const user: UserRecord = {
      username: input.username,
      role: input.role ?? 'user',
      passwordHash: await hashPassword(input.password ?? generated!),
      createdAt: this.now().toISOString(),
      ...(generated ? { mustChangePassword: true } : {}),
    };
    if (await this.users.get(input.username))
      throw new DomainError('conflict', `user "${input.username}" already exists`);
    await this.users.create(user, stamp);
    return { user: toPublicUser(user), ...(generated ? { password: generated } : {}) };
  }

  async changePassword(
    claims: TokenClaims,
    currentPassword: string,
    newPassword: string,
    stamp: Stamp,
  ): Promise<PublicUser> {
    const user = await this.users.get(claims.username);
    if (!user || !(await verifyPassword(currentPassword, user.passwordHash))) {
      throw new DomainError('unauthenticated', 'the current password is wrong');
    }
    checkPassword(newPassword);
    if (newPassword === currentPassword)
      throw new DomainError('invalid_request', 'the new password must differ from the current one');
    const { mustChangePassword: _m, ...rest } = user;
    const updated: UserRecord = { ...rest, passwordHash: await hashPassword(newPassword) };
    await this.users.update(updated, stamp);
    return toPublicUser(updated);
  }

  /**
   * Create `admin` at first start if it does not exist. Returns the generated password
   * when none was given, so the caller can show it once.
   */
  async ensureAdmin(
    password: string | undefined,
    stamp: Stamp,
  ): Promise<{ created: boolean; generatedPassword?: string }> {
    if (await this.users.get(ADMIN_USERNAME)) return { created: false };
    const generated = password === undefined || password === '' ? generatePassword() : undefined;
    await this.users.create(
      {
        username: ADMIN_USERNAME,
        role: 'admin',
        passwordHash: await hashPassword(generated ?? password!),
        createdAt: this.now().toISOString(),
      },
      stamp,
    );
    return { created: true, ...(generated ? { generatedPassword: generated } : {}) };
  }
}

function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new DomainError(
      'invalid_request',
      'a username is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
    );
  }
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new DomainError(
      'invalid_request',
      `a password is ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
}
