/**
 * @module The signed-in session, kept in sessionStorage (one tab, gone with it).
 */
import type { SignInResult, User } from './types';

const KEY = 'mraa.session';

export type Session = SignInResult;

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const session = JSON.parse(raw) as Session;
    if (!session.token || Date.parse(session.expiresAt) <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    /* storage full or disabled: the session lives in memory only */
  }
}

export function withUser(session: Session, user: User): Session {
  return { ...session, user };
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing to clear */
  }
}
