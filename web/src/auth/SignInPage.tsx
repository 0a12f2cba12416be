/**
 * @module The sign-in form: username and password, errors in plain words.
 */
import { type FormEvent, useState } from 'react';
import { describeError } from '../api';
import type { Session } from '../api/session-store';
import { useServices } from '../app/services';
import { ErrorNote } from '../ui/ErrorNote';

export function SignInPage({ onSignedIn, notice }: { onSignedIn(session: Session): void; notice: string | undefined }) {
  const { api } = useServices();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.auth.signIn(username.trim(), password));
    } catch (err) {
      setError(describeError(err, 'signin'));
      setBusy(false);
    }
  }

  return (
    <form className="card narrow" onSubmit={submit}>
      <h1 id="signin-title">Sign in</h1>
      {notice && <p className="notice">{notice}</p>}
      <label htmlFor="signin-username">Username</label>
      <input
        id="signin-username"
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        required
        // biome-ignore lint/a11y/noAutofocus: the sign-in page has one task; the username field is where it starts
        autoFocus
      />
      <label htmlFor="signin-password">Password</label>
      <input
        id="signin-password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <ErrorNote message={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
