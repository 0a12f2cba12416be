/**
 * @module Users in the replicated `users` table.
 */
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
}

export type PublicUser = Omit<UserRecord, 'passwordHash'>;

export function toPublicUser(user: UserRecord): PublicUser {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

export class UsersRepository {
  constructor(private readonly tables: TableStore) {}

  get(username: string): Promise<UserRecord | undefined> {
    return this.tables.get<UserRecord>(USERS_TABLE, username);
  }

  async create(user: UserRecord, stamp: Stamp): Promise<void> {
    await this.tables.put(USERS_TABLE, user, { stamp, expected: null });
  }

  async update(user: UserRecord, stamp: Stamp): Promise<void> {
    await this.tables.put(USERS_TABLE, user, { stamp });
  }

  async list(): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.tables.scan(USERS_TABLE, { limit: 500, cursor });
      for (const s of page.items) if (s.item) out.push(s.item as UserRecord);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}
