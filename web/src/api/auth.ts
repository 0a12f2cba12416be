/**
 * @module Sign-in, the signed-in user and the password change.
 */
import type { Transport } from './transport';
import type { SignInResult, User } from './types';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export class AuthApi {
  constructor(private readonly t: Transport) {}

  /** Any region can sign in (users are replicated): a fallback is allowed. */
  signIn(username: string, password: string): Promise<SignInResult> {
    return this.t.json<SignInResult>('/auth/signin', {
      method: 'POST',
      json: { username, password },
      auth: false,
      fallback: true,
    });
  }

  me(): Promise<User> {
    return this.t.json<User>('/auth/me');
  }

  /** Every session of the user ends, this one too: the answer is the new session. */
  changePassword(currentPassword: string, newPassword: string): Promise<SignInResult> {
    return this.t.json<SignInResult>('/auth/password', { method: 'POST', json: { currentPassword, newPassword } });
  }
}
