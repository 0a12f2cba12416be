/**
 * @module The password change, forced at first sign-in for a user created with a
 * generated password (`mustChangePassword`): nothing else is reachable until it is done.
 */
import { type FormEvent, useState } from 'react';
import { describeError, type SignInResult, type User } from '../api';
import { PASSWORD_MAX, PASSWORD_MIN } from '../api/auth';
import { useServices } from '../app/services';
import { ErrorNote } from '../ui/ErrorNote';

interface Props {
  forced: boolean;
  user: User;
  /** The new session: a password change ends every earlier one. */
  onChanged(session: SignInResult): void;
  onSignOut(): void;
}

export function ChangePasswordPage({ forced, user, onChanged, onSignOut }: Props) {
  const { api } = useServices();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next.length < PASSWORD_MIN || next.length > PASSWORD_MAX)
      return setError(`The new password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long.`);
    if (next !== repeat) return setError('The two new passwords are not the same.');
    if (next === current) return setError('Choose a password different from the current one.');
    setBusy(true);
    setError(undefined);
    try {
      onChanged(await api.auth.changePassword(current, next));
    } catch (err) {
      setError(describeError(err, 'password'));
      setBusy(false);
    }
  }

  return (
    <form className="card narrow" onSubmit={submit}>
      <h1 id="password-title">Choose a new password</h1>
      {forced && (
        <p className="notice">
          Welcome, {user.username}. Your account was created with a temporary password: choose your own before you
          continue.
        </p>
      )}
      <label htmlFor="pw-current">{forced ? 'Temporary password' : 'Current password'}</label>
      <input
        id="pw-current"
        type="password"
        autoComplete="current-password"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        required
      />
      <label htmlFor="pw-new">New password</label>
      <input
        id="pw-new"
        type="password"
        autoComplete="new-password"
        minLength={PASSWORD_MIN}
        maxLength={PASSWORD_MAX}
        aria-describedby="pw-hint"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        required
      />
      <p id="pw-hint" className="hint">
        {PASSWORD_MIN} to {PASSWORD_MAX} characters.
      </p>
      <label htmlFor="pw-repeat">Retype to confirm</label>
      <input
        id="pw-repeat"
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        required
      />
      <ErrorNote message={error} />
      <div className="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Change password'}
        </button>
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </form>
  );
}
