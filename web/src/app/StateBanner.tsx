/**
 * @module The banner under the header: writes paused while fenced, the secondary
 * region named in failover, no region answering. One live region, so a screen reader
 * hears each change.
 */
import type { RoutingSnapshot } from '../../../src/routing/client/index.js';

export function StateBanner({ snapshot }: { snapshot: RoutingSnapshot }) {
  return (
    <div role="status" aria-live="polite" className="banner-slot">
      <Message snapshot={snapshot} />
    </div>
  );
}

function Message({ snapshot }: { snapshot: RoutingSnapshot }) {
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
