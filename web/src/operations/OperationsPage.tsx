/**
 * @module The operations console (admins): every region's health and replication,
 * the control plane (voters, writer lease, quorum), the lag chart, the operator plans,
 * drill reports and, on a local deployment, the region and witness processes. Loaded
 * on demand (it brings the charts).
 */
import { useMemo, useState } from 'react';
import { describeError } from '../api';
import { useServices } from '../app/services';
import { useRouting } from '../app/useRouting';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorNote } from '../ui/ErrorNote';
import { controlPlaneSummary } from './control-plane';
import { DrillReports } from './DrillReports';
import { LagChart } from './LagChart';
import { PlanControls } from './PlanControls';
import { RegionCard } from './RegionCard';
import { usePlanRunner } from './usePlanRunner';
import { useRegionPolling } from './useRegionPolling';
import { VotersPanel } from './VotersPanel';
import '../styles/operations.css';

const NO_REGIONS: never[] = [];

export default function OperationsPage() {
  const { api, routing } = useServices();
  const snapshot = useRouting(routing);
  const regions = snapshot.config?.regions ?? NO_REGIONS;
  const polling = useRegionPolling(regions);
  const planner = usePlanRunner(polling.pollNow);
  const [stopping, setStopping] = useState<string>();
  const [processBusy, setProcessBusy] = useState<string>();
  const [processError, setProcessError] = useState<string>();
  const names = useMemo(() => regions.map((r) => r.name), [regions]);
  const controlPlane = useMemo(() => controlPlaneSummary(names, polling.regions), [names, polling.regions]);
  const witness = !names.includes(stopping ?? '');

  async function control(name: string, action: 'stop' | 'start') {
    setStopping(undefined);
    setProcessBusy(name);
    setProcessError(undefined);
    try {
      await (action === 'stop' ? api.operations.stopRegion(name) : api.operations.startRegion(name));
    } catch (err) {
      setProcessError(
        `${action === 'stop' ? 'Stopping' : 'Starting'} ${name} failed: ${describeError(err, 'operation')}`,
      );
    } finally {
      setProcessBusy(undefined);
      polling.pollNow();
    }
  }

  return (
    <div className="operations stack">
      <div>
        <h1>Operations</h1>
        <div role="status" aria-live="polite">
          {controlPlane.noQuorum && (
            <div className="ops-alert">
              <strong>No quorum: writes are paused.</strong> No region reaches a majority of voters, so no region may
              take writes and the state cannot change. Reads go on. Bring voters back (see Voters): writes resume by
              themselves once a majority answers.
            </div>
          )}
        </div>
      </div>
      <section aria-labelledby="ops-regions" className="stack">
        <h2 id="ops-regions">Regions</h2>
        <ErrorNote message={processError ?? (polling.localError && `Region processes: ${polling.localError}`)} />
        <div className="region-grid">
          {snapshot.regions.map((region) => (
            <RegionCard
              key={region.name}
              region={region}
              poll={polling.regions[region.name]}
              local={polling.local?.find((l) => l.name === region.name)}
              busy={processBusy === region.name}
              onStop={() => setStopping(region.name)}
              onStart={() => void control(region.name, 'start')}
            />
          ))}
        </div>
      </section>
      <section aria-labelledby="ops-voters" className="card">
        <h2 id="ops-voters">Voters</h2>
        <VotersPanel
          summary={controlPlane}
          local={polling.local}
          busy={processBusy}
          onStop={(name) => setStopping(name)}
          onStart={(name) => void control(name, 'start')}
        />
      </section>
      <section aria-labelledby="ops-lag" className="card">
        <h2 id="ops-lag">Replication lag</h2>
        <LagChart history={polling.history} />
      </section>
      <section aria-labelledby="ops-plans" className="card">
        <h2 id="ops-plans">State</h2>
        <PlanControls
          record={snapshot.record}
          regions={regions}
          leaseMs={controlPlane.leaseMs}
          run={planner.run}
          busy={planner.busy}
          onRun={(req) => void planner.start(req)}
        />
      </section>
      <section aria-labelledby="ops-drills" className="card">
        <h2 id="ops-drills">Drill reports</h2>
        <DrillReports />
      </section>
      {stopping && (
        <ConfirmDialog
          title={`Stop ${stopping}?`}
          confirmLabel="Stop"
          danger
          onConfirm={() => void control(stopping, 'stop')}
          onCancel={() => setStopping(undefined)}
        >
          {witness ? (
            <p>
              This kills the witness voter’s process, as the loss of its site would. While both regions are up they
              still make a majority of voters and writes go on; with one region down as well, writes pause. It is not
              restarted by itself: use Start to bring it back.
            </p>
          ) : (
            <p>
              This kills the region’s process, as an outage would. It is not restarted by itself: use Start to bring it
              back.
            </p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
