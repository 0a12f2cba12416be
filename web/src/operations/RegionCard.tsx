/**
 * @module One region at a glance: health, state and epoch, its change log, whether it
 * reaches a majority of voters, what each peer still has to receive and how far behind
 * it is; on a local deployment, its process with Stop and Start.
 */

import type { RegionView } from '../../../src/routing/client/index.js';
import type { LinkState, LocalRegion, RegionStatus } from '../api';
import { formatBytes, formatCount, formatMs, formatTime } from '../ui/format';
import { StateBadge } from '../ui/StateBadge';
import type { RegionPoll } from './useRegionPolling';

interface Props {
  region: RegionView;
  poll: RegionPoll | undefined;
  local: LocalRegion | undefined;
  busy: boolean;
  onStop(): void;
  onStart(): void;
}

export function RegionCard({ region, poll, local, busy, onStop, onStart }: Props) {
  const status = poll?.status;
  const record = status?.state ?? region.record;
  const health = poll?.health ?? 'unknown';
  return (
    <section className={`card region-card health-${health}`} aria-labelledby={`region-${region.name}`}>
      <header className="region-card-head">
        <h3 id={`region-${region.name}`}>{region.name}</h3>
        <span className="tag">{region.role}</span>
        {status?.writer && <span className="tag tag-writer">writer</span>}
      </header>
      <dl className="facts">
        <dt>Health</dt>
        <dd>
          <span className={`health health-${health}`}>
            {health === 'up' ? 'Up' : health === 'down' ? 'Down' : 'Checking…'}
          </span>
          {poll?.checkedAt && <span className="muted small"> at {formatTime(poll.checkedAt)}</span>}
        </dd>
        <dt>State</dt>
        <dd>
          {record ? (
            <>
              <StateBadge state={record.state} /> epoch {record.epoch}, writer {record.activeRegion}
            </>
          ) : (
            '–'
          )}
        </dd>
        {status && (
          <>
            <dt>Change log</dt>
            <dd>
              head {formatCount(status.log.head)}, {formatCount(status.log.entries)} entries kept
            </dd>
            <dt>Conflicts</dt>
            <dd>{formatCount(status.conflicts)}</dd>
          </>
        )}
        {status?.controlPlane && (
          <>
            <dt>Voters</dt>
            <dd>
              {status.controlPlane.quorum ? (
                <span className="ok-text">a majority reachable</span>
              ) : (
                <span className="error-text">cannot reach a majority: takes no writes</span>
              )}
            </dd>
          </>
        )}
      </dl>
      {status && <Replication status={status} />}
      {poll?.statusError && health === 'up' && <p className="error-text small">Status: {poll.statusError}</p>}
      {local && <Process local={local} busy={busy} onStop={onStop} onStart={onStart} name={region.name} />}
    </section>
  );
}

function Replication({ status }: { status: RegionStatus }) {
  if (status.peers.length === 0 && status.origins.length === 0) return null;
  return (
    <div className="replication">
      {status.peers.map((p) => (
        <p key={`peer-${p.name}`} className="small">
          <strong>→ {p.name}</strong>{' '}
          <span className={p.connected ? 'ok-text' : 'error-text'}>{p.connected ? 'connected' : 'not connected'}</span>
          {'; '}
          backlog {formatCount(p.backlog.entries)} entries ({formatBytes(p.backlog.bytes)}); lag {formatMs(p.lagMs)}
          {p.lastError && <span className="error-text"> (last error: {p.lastError})</span>}
          <LinkNote state={p.state} />
          {p.notice && <span> ({p.notice})</span>}
        </p>
      ))}
      {status.origins.map((o) => (
        <p key={`origin-${o.name}`} className="small">
          <strong>← {o.name}</strong> applied {formatCount(o.appliedSeq)} of {formatCount(o.originHead)}; lag{' '}
          {formatMs(o.lagMs)}
          <LinkNote state={o.state} />
        </p>
      ))}
    </div>
  );
}

/** A link that needs a rebuild or refuses batches, in the words the server chose. */
function LinkNote({ state }: { state: LinkState | undefined }) {
  if (!state || (state.kind !== 'needs-rebuild' && state.kind !== 'refused')) return null;
  return <strong className="error-text"> {state.message}</strong>;
}

/** A process of a local deployment (a region or the witness), with Stop or Start. */
export function Process({
  name,
  local,
  busy,
  onStop,
  onStart,
}: {
  name: string;
  local: LocalRegion;
  busy: boolean;
  onStop(): void;
  onStart(): void;
}) {
  const exit = local.exit;
  return (
    <div className="process">
      <p className="small">
        Process:{' '}
        {local.running ? (
          <>running, pid {local.pid}</>
        ) : (
          <>
            stopped
            {exit && ` (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`} at ${formatTime(exit.at)})`}
          </>
        )}
      </p>
      {local.running ? (
        <button type="button" className="danger" disabled={busy} onClick={onStop} aria-label={`Stop ${name}`}>
          Stop
        </button>
      ) : (
        <button type="button" disabled={busy} onClick={onStart} aria-label={`Start ${name}`}>
          Start
        </button>
      )}
    </div>
  );
}
