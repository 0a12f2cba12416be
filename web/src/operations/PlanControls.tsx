/**
 * @module The operator's buttons (Fence, Fail over, Fail back, Activate): each asks for
 * confirmation, then runs its plan and shows the progress.
 */
import { useState } from 'react';
import type { RegionConfig, StateRecord } from '../../../src/routing/client/index.js';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { formatMs } from '../ui/format';
import { PlanProgress } from './PlanProgress';
import { PLAN_TITLE, type PlanKind, type PlanRequest, type PlanRunState } from './usePlanRunner';

interface Props {
  record: StateRecord | undefined;
  regions: readonly RegionConfig[];
  run: PlanRunState | undefined;
  busy: boolean;
  /** The writer lease period, when the regions report it: a forced switch may wait that long. */
  leaseMs?: number | undefined;
  onRun(req: PlanRequest): void;
}

export function PlanControls({ record, regions, run, busy, leaseMs, onRun }: Props) {
  const [asking, setAsking] = useState<PlanKind>();
  const [reason, setReason] = useState('');
  const [force, setForce] = useState(false);
  const primary = regions.find((r) => r.role === 'primary')?.name ?? '';
  const secondaries = regions.filter((r) => r.role !== 'primary').map((r) => r.name);
  const [target, setTarget] = useState(secondaries[0] ?? '');

  const writer = record?.activeRegion;
  const fenced = record?.state === 'fenced';
  const enabled: Record<PlanKind, boolean> = {
    fence: !!record && !fenced,
    failover: !!record && secondaries.some((s) => fenced || s !== writer),
    failback: !!record && (fenced || writer !== primary),
    activate: !!record && fenced,
  };
  const help: Record<PlanKind, string> = {
    fence: 'Stop writes in every region; reads go on.',
    failover: `Move writes to ${secondaries.length === 1 ? secondaries[0] : 'a secondary region'}, losing nothing.`,
    failback: `Move writes back to the primary, ${primary}.`,
    activate: `Lift the fence: ${writer ?? 'the fenced writer'} takes writes again.`,
  };

  function ask(kind: PlanKind) {
    setReason('');
    setForce(false);
    setAsking(kind);
  }

  function confirm() {
    if (!asking) return;
    const kind = asking;
    setAsking(undefined);
    onRun({
      kind,
      ...(reason.trim() ? { reason: reason.trim() } : {}),
      ...(kind === 'failover' ? { to: target, force } : {}),
    });
  }

  return (
    <div className="stack">
      <div className="plan-buttons">
        {(Object.keys(PLAN_TITLE) as PlanKind[]).map((kind) => (
          <div key={kind} className="plan-button">
            <button
              type="button"
              className={kind === 'fence' ? 'warning' : undefined}
              disabled={busy || !enabled[kind]}
              onClick={() => ask(kind)}
              aria-describedby={`help-${kind}`}
            >
              {PLAN_TITLE[kind]}
            </button>
            <span id={`help-${kind}`} className="small muted">
              {help[kind]}
            </span>
          </div>
        ))}
      </div>
      {run && <PlanProgress run={run} leaseMs={leaseMs} />}
      {asking && (
        <ConfirmDialog
          title={`${PLAN_TITLE[asking]}?`}
          confirmLabel={PLAN_TITLE[asking]}
          danger={asking !== 'activate'}
          onConfirm={confirm}
          onCancel={() => setAsking(undefined)}
        >
          <p>{explain(asking, writer, asking === 'failover' ? target : primary)}</p>
          {asking === 'failover' && secondaries.length > 1 && (
            <>
              <label htmlFor="plan-target">Target region</label>
              <select id="plan-target" value={target} onChange={(e) => setTarget(e.target.value)}>
                {secondaries.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </>
          )}
          {asking === 'failover' && (
            <label className="checkbox">
              <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
              Force: {writer} is unreachable. Switch without waiting for the drain; writes it had not shipped may be
              lost. The switch first waits for {writer}’s writer lease to run out
              {leaseMs ? ` (up to ${formatMs(leaseMs)})` : ''}, so two regions never take writes at once.
            </label>
          )}
          <label htmlFor="plan-reason">Reason (optional, kept in the record)</label>
          <input id="plan-reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        </ConfirmDialog>
      )}
    </div>
  );
}

function explain(kind: PlanKind, writer: string | undefined, target: string): string {
  switch (kind) {
    case 'fence':
      return `Writes stop in every region (${writer} included); reads go on and replication keeps draining. Users see that writes are paused until you activate or fail over.`;
    case 'failover':
    case 'failback':
      return `Fence ${writer} (if it is not yet), wait until ${target} has applied every write ${writer} accepted, then make ${target} the writer. If the drain does not finish within a minute, the application stays fenced.`;
    case 'activate':
      return `Lift the fence: ${writer} takes writes again. Nothing moves.`;
  }
}
