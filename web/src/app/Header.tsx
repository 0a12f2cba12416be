/**
 * @module The header: the region that takes writes and the state, live; the pages;
 * the signed-in user.
 */

import type { RoutingSnapshot } from '../../../src/routing/client/index.js';
import type { User } from '../api';
import { StateBadge } from '../ui/StateBadge';
import type { Route } from './useHashRoute';

interface Props {
  snapshot: RoutingSnapshot;
  route: Route;
  user: User | undefined;
  onSignOut(): void;
}

export function Header({ snapshot, route, user, onSignOut }: Props) {
  const record = snapshot.record;
  const live = snapshot.regions.some((r) => r.streaming);
  return (
    <header className="app-header">
      <a className="brand" href="#/">
        mraa photos
      </a>
      <section className="region-info" aria-label="Current region and state">
        {record ? (
          <>
            <span className="muted">Region</span>
            <strong className="region-name">{record.activeRegion}</strong>
            <StateBadge state={record.state} />
            <span className="muted small epoch" title="The state's epoch grows by one on every transition">
              epoch {record.epoch}
            </span>
            <span
              className={`live-dot${live ? ' on' : ''}`}
              title={live ? 'Live updates on' : 'Live updates reconnecting'}
            >
              <span className="visually-hidden">{live ? 'Live updates on' : 'Live updates reconnecting'}</span>
            </span>
          </>
        ) : (
          <span className="muted">Looking for a region…</span>
        )}
      </section>
      {user && (
        <>
          <nav aria-label="Pages" className="nav">
            <a href="#/" aria-current={route.page !== 'operations' ? 'page' : undefined}>
              Photos
            </a>
            {user.role === 'admin' && (
              <a href="#/operations" aria-current={route.page === 'operations' ? 'page' : undefined}>
                Operations
              </a>
            )}
          </nav>
          <div className="user">
            <span className="small">
              {user.username}
              {user.role === 'admin' && <span className="role-suffix"> (admin)</span>}
            </span>
            <button type="button" className="secondary" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </>
      )}
    </header>
  );
}
