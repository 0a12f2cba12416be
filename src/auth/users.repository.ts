/**
 * @module Users in the replicated `users` table. A removed user stays as a small
 * record (`removed: true`, its last session generation) rather than a tombstone, so a
 * user created again under the same name starts above every token the old one held.
 */
import type { Version } from '../core/version.js';
import type { Stamp, TableStore } from '../ports/table-store.js';
import type { Role } from './tokens.js';

export const USERS_TABLE = 'users';

export interface UserRecord extends Record<string, unknown> {
  username: string;
  role: Role;
  passwordHash: string;
  createdAt: string;
  /** Set for an account created with a generated password: it must be changed at first sign-in. */
  mustChangePassword?: boolean;
  /**
   * The session generation: tokens name the one they were issued under, and are refused
   * once it has moved on (password or role changed, signed out). Absent means 0.
   */
  sessionGen?: number;
}

export interface RemovedUser extends Record<string, unknown> {
  username: string;
  removed: true;
  sessionGen: number;
  removedAt: string;
}

export type StoredUser = UserRecord | RemovedUser;

export type PublicUser = Omit<UserRecord, 'passwordHash' | 'sessionGen'>;

export function toPublicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, sessionGen: _gen, ...rest } = user;
  return rest;
}

export function isRemoved(user: StoredUser): user is RemovedUser {
  return user.removed === true;
}

export function sessionGen(user: StoredUser): number {
  return typeof user.sessionGen === 'number' ? user.sessionGen : 0;
}

export class UsersRepository {
  constructor(private readonly tables: TableStore) {}

  /** A current user (not removed). */
  async get(username: string): Promise<UserRecord | undefined> {
    const stored = await this.tables.get<StoredUser>(USERS_TABLE, username);
    return stored && !isRemoved(stored) ? stored : undefined;
  }

  /** What this region holds under the name: a user, a removed user, or nothing (never known, or not yet replicated). */
  stored(username: string): Promise<StoredUser | undefined> {
    return this.tables.get<StoredUser>(USERS_TABLE, username);
  }

  async versioned(username: string): Promise<{ user: StoredUser; version: Version } | undefined> {
    const stored = await this.tables.getVersioned<StoredUser>(USERS_TABLE, username);
    return stored?.item ? { user: stored.item, version: stored.version } : undefined;
  }

  /** Writes a user or a removed user; `expected`: the version it replaces (null: none may exist). */
  async put(user: StoredUser, stamp: Stamp, expected: Version | null): Promise<void> {
    await this.tables.put(USERS_TABLE, user, { stamp, expected });
  }

  async list(): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.tables.scan(USERS_TABLE, { limit: 500, cursor });
      for (const s of page.items) if (s.item && !isRemoved(s.item as StoredUser)) out.push(s.item as UserRecord);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}
