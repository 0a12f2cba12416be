/**
 * @module The control plane at a glance (DESIGN §3a): the writer lease running down
 * between polls, and each voter (the regions and the witness) with who reaches it and
 * the lease it has granted; on a local deployment, the witness's process with Stop and
 * Start. Refreshed by the console's polling (useRegionPolling).
 */
import type { LocalRegion } from '../api';
import { formatMs } from '../ui/format';
import { useNow } from '../ui/useNow';
import { type ControlPlaneSummary, remainingAt, type VoterRow, type VoterSighting } from './control-plane';
import { Process } from './RegionCard';

interface Props {
  summary: ControlPlaneSummary;
  /** The edge's processes on a local deployment (the witness among them). */
  local: LocalRegion[] | undefined;
  busy: string | undefined;
  onStop(name: string): void;
  onStart(name: string): void;
}

export function VotersPanel({ summary, local, busy, onStop, onStart }: Props) {
  const now = useNow(summary.known, 250);
  if (!summary.known) {
    return <p className="muted">No region reports its control plane yet.</p>;
  }
  return (
    <div className="stack">
      <p className="small muted">
        {summary.kind === 'etcd' ? 'etcd' : 'Embedded voters'}: a majority of voters must agree on every state change;
        the writer takes writes only while it holds a lease of {formatMs(summary.leaseMs)}.
      </p>
      <LeaseLine summary={summary} now={now} />
      <QuorumLines summary={summary} />
      <ul className="voter-list" aria-label="Voters">
        {summary.voters.map((v) => (
          <Voter
            key={v.name}
            voter={v}
            now={now}
            local={v.kind === 'witness' ? local?.find((l) => l.name === v.name) : undefined}
            busy={busy === v.name}
            onStop={() => onStop(v.name)}
            onStart={() => onStart(v.name)}
          />
        ))}
      </ul>
    </div>
  );
}

function LeaseLine({ summary, now }: { summary: ControlPlaneSummary; now: number }) {
  const lease = summary.lease;
  if (!lease) {
    // The holder does not answer (or holds nothing): what the voters still count.
    const granted = summary.voters
      .flatMap((v) => (v.grant ? [v.grant] : []))
      .filter((g) => remainingAt(g, g.checkedAt, now) > 0);
    const longest = [...granted].sort((a, b) => remainingAt(b, b.checkedAt, now) - remainingAt(a, a.checkedAt, now))[0];
    const { writer, writerAnswered } = summary;
    return (
      <div className="lease lease-none">
        <p>
          <strong>
            {writer && writerAnswered
              ? `Writer lease: ${writer} holds none.`
              : `Writer lease: held by no region that answers${writer ? ` (${writer} does not)` : ''}.`}
          </strong>{' '}
          No region takes writes now{summary.leaseError ? ` (${summary.leaseError})` : ''}.
        </p>
        {longest && (
          <p className="small">
            {granted.length === 1 ? 'A voter still counts' : `${granted.length} voters still count`} {longest.holder}’s
            lease (epoch {longest.epoch}) for {formatMs(remainingAt(longest, longest.checkedAt, now))}: no other region
            can take writes before it runs out.
          </p>
        )}
      </div>
    );
  }
  const left = remainingAt(lease, lease.checkedAt, now);
  return (
    <div className="lease">
      <p>
        <strong>Writer lease:</strong> <span className="mono">{lease.holder}</span>, epoch {lease.epoch},{' '}
        <span className="lease-left">
          {formatMs(left)} left of {formatMs(lease.leaseMs)}
        </span>{' '}
        <span className="muted small">(renewed several times per period)</span>
      </p>
      <progress
        className="lease-bar"
        max={lease.leaseMs}
        value={left}
        aria-label={`Writer lease of ${lease.holder}: ${formatMs(left)} left of ${formatMs(lease.leaseMs)}`}
      />
    </div>
  );
}

function QuorumLines({ summary }: { summary: ControlPlaneSummary }) {
  const without = summary.quorum.filter((q) => !q.quorum);
  if (summary.noQuorum) return null; // the console's alert says it, prominently
  if (without.length === 0) {
    return <p className="small ok-text">Every region that answers reads the state from a majority of voters.</p>;
  }
  return (
    <ul className="quorum-notes">
      {without.map((q) => (
        <li key={q.region} className="small error-text">
          {q.region} cannot reach a majority of voters: it takes no writes{q.error ? ` (${q.error})` : ''}.
        </li>
      ))}
    </ul>
  );
}

function Voter({
  voter,
  now,
  local,
  busy,
  onStop,
  onStart,
}: {
  voter: VoterRow;
  now: number;
  local: LocalRegion | undefined;
  busy: boolean;
  onStop(): void;
  onStart(): void;
}) {
  const reachedBy = voter.seenFrom.filter((s) => s.reachable === true).length;
  const grant = voter.grant;
  const left = grant ? remainingAt(grant, grant.checkedAt, now) : 0;
  return (
    <li className={`voter${reachedBy === 0 ? ' voter-lost' : ''}`}>
      <div className="voter-head">
        <strong className="mono">{voter.name}</strong>
        <span className="tag">{voter.kind}</span>
      </div>
      <ul className="reach" aria-label={`Who reaches ${voter.name}`}>
        {voter.seenFrom.map((s) => (
          <Sighting key={s.from} sighting={s} />
        ))}
      </ul>
      <p className="small">
        {grant && left > 0 ? (
          <>
            Lease granted to <span className="mono">{grant.holder}</span>, epoch {grant.epoch}, {formatMs(left)} left
          </>
        ) : (
          <span className="muted">No lease granted</span>
        )}
      </p>
      {local && <Process name={voter.name} local={local} busy={busy} onStop={onStop} onStart={onStart} />}
    </li>
  );
}

function Sighting({ sighting: s }: { sighting: VoterSighting }) {
  const state = s.reachable === undefined ? 'unknown' : s.reachable ? 'ok' : 'lost';
  const words = s.reachable === undefined ? 'no answer' : s.reachable ? 'reachable' : 'unreachable';
  return (
    <li className={`reach-${state}`} title={s.error}>
      <span className="dot" aria-hidden="true" />
      <span>
        from <span className="mono">{s.from}</span>: {words}
      </span>
    </li>
  );
}
