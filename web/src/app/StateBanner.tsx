/**
 * @module The banner under the header: writes paused while fenced or while the regions
 * cannot agree (no quorum), the secondary region named in failover, no region
 * answering. One live region, so a screen reader hears each change.
 */
import type { RoutingSnapshot } from '../../../src/routing/client/index.js';
import { writesPaused } from './writes';

/** `refused`: a write was answered 503 `no_quorum` and the quorum is not known to be back. */
export function StateBanner({ snapshot, refused = false }: { snapshot: RoutingSnapshot; refused?: boolean }) {
  return (
    <div role="status" aria-live="polite" className="banner-slot">
      <Message snapshot={snapshot} refused={refused} />
    </div>
  );
}

function Message({ snapshot, refused }: { snapshot: RoutingSnapshot; refused: boolean }) {
  const record = snapshot.record;
  if (snapshot.status !== 'ready') return null;
  if (!record) {
    const allAsked = snapshot.regions.length > 0 && snapshot.regions.every((r) => r.reachable === false);
    return allAsked ? (
      <div className="banner banner-down">
        <strong>No region answers at the moment.</strong> Still trying; this page updates by itself.
      </div>
    ) : null;
  }
  const primary = snapshot.config?.regions.find((r) => r.role === 'primary')?.name;
  if (record.state === 'fenced') {
    return (
      <div className="banner banner-fenced">
        <strong>Writes are paused: the application is fenced.</strong> You can still browse photos and comments; uploads
        and comments resume once it is active again.
        {record.reason && <span className="reason"> Reason: {record.reason}</span>}
      </div>
    );
  }
  if (writesPaused(snapshot, refused)?.kind === 'no_quorum') {
    return (
      <div className="banner banner-no-quorum">
        <strong>Writes are paused: the regions cannot agree.</strong> Not enough voters are reachable to make a
        majority, so no region may take writes. You can still browse photos and comments; this page keeps checking, and
        uploads and comments resume by themselves as soon as the regions agree again.
      </div>
    );
  }
  if (record.state === 'failover') {
    return (
      <div className="banner banner-failover">
        <strong>Running from the secondary region {record.activeRegion}.</strong> The application has failed over
        {primary ? ` from ${primary}` : ''}; everything works as usual.
      </div>
    );
  }
  return null;
}
