/**
 * @module The app's root: the live routing state, the session, and which page shows
 * (sign-in, the forced password change, or the signed-in pages).
 */
import { type MouseEvent, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { RoutingClient } from '../../../src/routing/client/index.js';
import { createApi } from '../api';
import { ChangePasswordPage } from '../auth/ChangePasswordPage';
import { SignInPage } from '../auth/SignInPage';
import { Header } from './Header';
import { Pages } from './Pages';
import { QuorumWatch } from './quorum-watch';
import { StateBanner } from './StateBanner';
import { ServicesContext } from './services';
import { useHashRoute } from './useHashRoute';
import { useRouting } from './useRouting';
import { useSession } from './useSession';

export function App({ routing }: { routing: RoutingClient }) {
  const snapshot = useRouting(routing);
  const session = useSession();
  const [quorum] = useState(() => new QuorumWatch(routing));
  useEffect(() => {
    quorum.start();
    return () => quorum.stop();
  }, [quorum]);
  const refused = useSyncExternalStore(quorum.subscribe, () => quorum.refused);
  const api = useMemo(() => createApi(routing, session.tokens, quorum.report), [routing, session.tokens, quorum]);
  const services = useMemo(() => ({ routing, api, quorum }), [routing, api, quorum]);
  const user = session.session?.user;
  const route = useHashRoute();

  // The stored user may be stale (a password changed elsewhere): ask once per page load.
  const signedIn = !!session.session;
  const { updateUser } = session;
  useEffect(() => {
    if (!signedIn) return;
    api.auth.me().then(updateUser, () => {
      /* a 401 signs out through the API; anything else keeps the stored user */
    });
  }, [api, signedIn, updateUser]);

  let page: React.ReactNode;
  if (snapshot.status === 'loading') page = <p className="splash">Connecting to the regions…</p>;
  else if (snapshot.status === 'error') page = <ConfigError message={snapshot.error} />;
  else if (!user) page = <SignInPage onSignedIn={session.signedIn} notice={session.notice} />;
  else if (user.mustChangePassword)
    page = <ChangePasswordPage forced user={user} onChanged={session.signedIn} onSignOut={() => session.signOut()} />;
  else page = <Pages user={user} route={route} />;

  return (
    <ServicesContext value={services}>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link is an anchor to #main that also moves focus */}
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <Header
        snapshot={snapshot}
        route={route}
        user={user && !user.mustChangePassword ? user : undefined}
        onSignOut={() => session.signOut()}
      />
      <StateBanner snapshot={snapshot} refused={refused} />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </ServicesContext>
  );
}

function ConfigError({ message }: { message: string | undefined }) {
  return (
    <div className="splash" role="alert">
      <p>{message ?? 'The application could not start.'}</p>
      <button type="button" onClick={() => window.location.reload()}>
        Try again
      </button>
    </div>
  );
}

/** The skip link focuses <main> itself: the URL's hash is the app's page. */
function skipToMain(e: MouseEvent<HTMLAnchorElement>) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}
