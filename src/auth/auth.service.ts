/**
 * @module Sign-in, sessions and admin-created users (the counterpart of the reference
 * solution's Cognito user pool), replicated like any table. A session ends when its
 * user's generation moves on: a password or role change, a removal, a sign-out. Every
 * request checks its token against the stored user (one point read), so the role and
 * the forced password change come from the user as stored, not from the token alone.
 */
import { DomainError } from '../core/errors.js';
import type { Version } from '../core/version.js';
import type { Stamp } from '../ports/table-store.js';
import type { Passwords } from './passwords.js';
import { generatePassword } from './passwords.js';
import type { IssuedToken, Role, TokenSigner } from './tokens.js';
import {
  isRemoved,
  type PublicUser,
  type StoredUser,
  sessionGen,
  toPublicUser,
  type UserRecord,
  type UsersRepository,
} from './users.repository.js';

export const ADMIN_USERNAME = 'admin';
export const USERNAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

export interface SignInResult extends IssuedToken {
  user: PublicUser;
}

/** Who a valid token speaks for, as this region knows the user now. */
export interface SessionUser {
  username: string;
  role: Role;
  /** Until the password is changed, only /auth/me, /auth/password and sign-out are open. */
  mustChangePassword: boolean;
  /** The token's generation (a password change issues the next one). */
  gen: number;
  operator: boolean;
}

/**
 * How long what a session check read of a user is reused. Every change to a user
 * (local or replicated) also drops it at once (`forgetUser`, wired to the table's
 * commits); the age bounds a change that reached the table some other way.
 */
export const SESSION_FACTS_TTL_MS = 1000;
const SESSION_FACTS_MAX = 10_000;

export class AuthService {
  // Verified against when the user does not exist, so a miss costs as much as a hit.
  private dummyHash: Promise<string> | undefined;
  /** What the session check needs of each user, as last read (null: not stored here). */
  private readonly facts = new Map<string, { user: StoredUser | null; readAt: number }>();

  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenSigner,
    private readonly passwords: Passwords,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async signIn(username: string, password: string): Promise<SignInResult> {
    const user = await this.users.get(username);
    this.dummyHash ??= this.passwords.hash('not a real password');
    const ok = await this.passwords.verify(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !ok) throw new DomainError('unauthenticated', 'wrong username or password');
    return this.session(user);
  }

  /**
   * The session a token stands for. The stored user decides: removed, or at a later
   * generation than the token's, ends it. A user this region does not know yet (created
   * moments ago elsewhere) or holds at an older generation (a change not replicated here
   * yet) is taken from the token: it is signed, and newer than what is stored.
   */
  async authenticate(token: string): Promise<SessionUser> {
    const claims = await this.tokens.verify(token);
    const fromToken = (): SessionUser => ({
      username: claims.username,
      role: claims.role,
      mustChangePassword: claims.mustChangePassword === true,
      gen: claims.gen,
      operator: claims.operator === true,
    });
    if (claims.operator) return { ...fromToken(), role: 'admin', mustChangePassword: false };
    const stored = await this.storedUser(claims.username);
    if (!stored || sessionGen(stored) < claims.gen) return fromToken();
    if (isRemoved(stored) || sessionGen(stored) > claims.gen) {
      this.tokens.forget(token);
      throw new DomainError('unauthenticated', 'this session has ended; sign in again');
    }
    return {
      username: stored.username,
      role: stored.role,
      mustChangePassword: stored.mustChangePassword === true,
      gen: claims.gen,
      operator: false,
    };
  }

  /** Forgets what was read of a user: its item changed (wired to the users table's commits). */
  forgetUser(username: string): void {
    this.facts.delete(username);
  }

  private async storedUser(username: string): Promise<StoredUser | undefined> {
    const now = Date.now();
    const known = this.facts.get(username);
    if (known && now - known.readAt < SESSION_FACTS_TTL_MS) return known.user ?? undefined;
    const user = await this.users.stored(username);
    if (this.facts.size >= SESSION_FACTS_MAX) this.facts.delete(this.facts.keys().next().value!);
    this.facts.set(username, { user: user ?? null, readAt: now });
    return user;
  }

  async me(session: Pick<SessionUser, 'username' | 'role'> & { mustChangePassword?: boolean }): Promise<PublicUser> {
    const user = await this.users.get(session.username);
    // A token outlives replication lag: a user created moments ago elsewhere is still known by its token.
    return user
      ? toPublicUser(user)
      : {
          username: session.username,
          role: session.role,
          createdAt: '',
          ...(session.mustChangePassword ? { mustChangePassword: true } : {}),
        };
  }

  /** Create a user; without a password one is generated, returned once, and must be changed at first sign-in. */
  async createUser(
    input: { username: string; password?: string; role?: Role },
    stamp: Stamp,
  ): Promise<{ user: PublicUser; password?: string }> {
    checkUsername(input.username);
    if (input.password !== undefined) checkPassword(input.password);
    const generated = input.password === undefined ? generatePassword() : undefined;
    const before = await this.users.versioned(input.username);
    if (before && !isRemoved(before.user)) throw new DomainError('conflict', `user "${input.username}" already exists`);
    const user: UserRecord = {
      username: input.username,
      role: input.role ?? 'user',
      passwordHash: await this.passwords.hash(input.password ?? generated!),
      createdAt: this.now().toISOString(),
      ...(generated ? { mustChangePassword: true } : {}),
      // A name used before starts above every token its earlier user held.
      ...(before ? { sessionGen: sessionGen(before.user) + 1 } : {}),
    };
    await this.save(user, stamp, before?.version ?? null);
    return { user: toPublicUser(user), ...(generated ? { password: generated } : {}) };
  }

  /** Changes the signed-in user's password: every session of the user ends, and a new one is returned. */
  async changePassword(
    username: string,
    currentPassword: string,
    newPassword: string,
    stamp: Stamp,
  ): Promise<SignInResult> {
    const found = await this.users.versioned(username);
    const user = found && !isRemoved(found.user) ? found.user : undefined;
    if (!found || !user || !(await this.passwords.verify(currentPassword, user.passwordHash))) {
      throw new DomainError('unauthenticated', 'the current password is wrong');
    }
    checkPassword(newPassword);
    if (newPassword === currentPassword)
      throw new DomainError('invalid_request', 'the new password must differ from the current one');
    const { mustChangePassword: _m, ...rest } = user;
    const updated: UserRecord = {
      ...rest,
      passwordHash: await this.passwords.hash(newPassword),
      sessionGen: sessionGen(user) + 1,
    };
    await this.save(updated, stamp, found.version);
    return this.session(updated);
  }

  async setRole(username: string, role: Role, stamp: Stamp): Promise<PublicUser> {
    const { user, version } = await this.current(username);
    if (username === ADMIN_USERNAME && role !== 'admin')
      throw new DomainError('conflict', `"${ADMIN_USERNAME}" is always an administrator`);
    if (user.role === role) return toPublicUser(user);
    const updated: UserRecord = { ...user, role, sessionGen: sessionGen(user) + 1 };
    await this.save(updated, stamp, version);
    return toPublicUser(updated);
  }

  /**
   * An administrator sets a new password for a user who lost theirs (generated when none
   * is given, returned once): every session of the user ends, and the user must change
   * it at the next sign-in.
   */
  async resetPassword(
    username: string,
    password: string | undefined,
    stamp: Stamp,
  ): Promise<{ user: PublicUser; password?: string }> {
    if (password !== undefined) checkPassword(password);
    const generated = password === undefined ? generatePassword() : undefined;
    const { user, version } = await this.current(username);
    const updated: UserRecord = {
      ...user,
      passwordHash: await this.passwords.hash(password ?? generated!),
      mustChangePassword: true,
      sessionGen: sessionGen(user) + 1,
    };
    await this.save(updated, stamp, version);
    return { user: toPublicUser(updated), ...(generated ? { password: generated } : {}) };
  }

  /** Ends every session of a user, in every region once replicated. */
  async signOut(username: string, stamp: Stamp): Promise<PublicUser> {
    const { user, version } = await this.current(username);
    const updated: UserRecord = { ...user, sessionGen: sessionGen(user) + 1 };
    await this.save(updated, stamp, version);
    return toPublicUser(updated);
  }

  async removeUser(username: string, stamp: Stamp): Promise<void> {
    if (username === ADMIN_USERNAME)
      throw new DomainError('conflict', `"${ADMIN_USERNAME}" cannot be removed; change its password instead`);
    const { user, version } = await this.current(username);
    const removed: StoredUser = {
      username,
      removed: true,
      sessionGen: sessionGen(user) + 1,
      removedAt: this.now().toISOString(),
    };
    await this.save(removed, stamp, version);
  }

  async listUsers(): Promise<PublicUser[]> {
    return (await this.users.list()).map(toPublicUser);
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
    await this.save(
      {
        username: ADMIN_USERNAME,
        role: 'admin',
        passwordHash: await this.passwords.hash(generated ?? password!),
        createdAt: this.now().toISOString(),
      },
      stamp,
      null,
    );
    return { created: true, ...(generated ? { generatedPassword: generated } : {}) };
  }

  private async save(user: StoredUser, stamp: Stamp, expected: Version | null): Promise<void> {
    try {
      await this.users.put(user, stamp, expected);
    } finally {
      this.forgetUser(user.username);
    }
  }

  private async current(username: string) {
    const found = await this.users.versioned(username);
    if (!found || isRemoved(found.user)) throw new DomainError('not_found', `no user "${username}"`);
    return { user: found.user, version: found.version };
  }

  private async session(user: UserRecord): Promise<SignInResult> {
    const issued = await this.tokens.issue({
      username: user.username,
      role: user.role,
      gen: sessionGen(user),
      ...(user.mustChangePassword ? { mustChangePassword: true as const } : {}),
    });
    return { ...issued, user: toPublicUser(user) };
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
