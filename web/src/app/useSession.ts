/**
 * @module The signed-in session: restored from sessionStorage, replaced on sign-in
 * and password change, ended on sign-out or on any 401 (with a notice saying so).
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import type { User } from '../api';
import { clearSession, loadSession, type Session, saveSession } from '../api/session-store';
import type { TokenSource } from '../api/transport';

export interface SessionState {
  session: Session | undefined;
  /** Why the user is looking at the sign-in page again, if not by choice. */
  notice: string | undefined;
  /** Stable: the API reads the current token through it. */
  tokens: TokenSource;
  signedIn(session: Session): void;
  updateUser(user: User): void;
  signOut(notice?: string): void;
}

export function useSession(): SessionState {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  const [notice, setNotice] = useState<string>();
  const ref = useRef(session);

  const signOut = useCallback((why?: string) => {
    clearSession();
    ref.current = undefined;
    setSession(undefined);
    setNotice(why);
  }, []);

  const signedIn = useCallback((next: Session) => {
    saveSession(next);
    ref.current = next;
    setSession(next);
    setNotice(undefined);
  }, []);

  const updateUser = useCallback((user: User) => {
    if (!ref.current) return;
    const next = { ...ref.current, user };
    saveSession(next);
    ref.current = next;
    setSession(next);
  }, []);

  const tokens = useMemo<TokenSource>(
    () => ({
      token: () => ref.current?.token,
      onUnauthorized: () => {
        if (ref.current) signOut('Your session has ended. Please sign in again.');
      },
    }),
    [signOut],
  );

  return { session, notice, tokens, signedIn, updateUser, signOut };
}
