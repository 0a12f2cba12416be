/**
 * @module The latest drill reports of a local deployment: a list with RPO and RTO,
 * and one report's details (writes, errors, timeline).
 */
import { useCallback, useEffect, useState } from 'react';
import { type DrillReport, type DrillSummary, describeError } from '../api';
import { useServices } from '../app/services';
import { ErrorNote } from '../ui/ErrorNote';
import { formatCount, formatDateTime, formatMs } from '../ui/format';
import { DrillTimeline } from './DrillTimeline';

const SHOWN = 10;

export function DrillReports() {
  const { api } = useServices();
  const [reports, setReports] = useState<DrillSummary[] | null>();
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState<DrillReport>();
  const [openError, setOpenError] = useState<string>();

  const load = useCallback(() => {
    setError(undefined);
    api.operations.drills().then(
      (list) => setReports(list ?? null),
      (err: unknown) => setError(describeError(err, 'load')),
    );
  }, [api]);
  useEffect(load, [load]);

  async function show(id: string) {
    setOpenError(undefined);
    try {
      setOpen(await api.operations.drill(id));
    } catch (err) {
      setOpenError(describeError(err, 'load'));
    }
  }

  if (reports === null)
    return (
      <p className="muted">Drill reports are kept by a local deployment (mraa up); this deployment has none to show.</p>
    );
  return (
    <div className="stack">
      <ErrorNote message={error} />
      <div>
        <button type="button" className="secondary" onClick={load}>
          Refresh reports
        </button>
      </div>
      {reports && reports.length === 0 && <p className="muted">No drill has been run yet.</p>}
      {reports && reports.length > 0 && (
        <ul className="drill-list">
          {reports.slice(0, SHOWN).map((r) => (
            <li key={r.id} className={open?.id === r.id ? 'selected' : undefined}>
              <span className={r.ok ? 'ok-text' : 'error-text'}>{r.ok ? 'Passed' : 'Failed'}</span>
              <span>
                {r.kind} · {formatDateTime(r.startedAt)}
              </span>
              <span className="small">
                RPO {formatCount(r.rpo)} writes · RTO {formatMs(r.rtoMs)}
              </span>
              <button
                type="button"
                className="link"
                onClick={() => void show(r.id)}
                aria-label={`Details of the ${r.kind} drill of ${formatDateTime(r.startedAt)}`}
              >
                Details
              </button>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote message={openError} />
      {open && <DrillDetails report={open} />}
    </div>
  );
}

function DrillDetails({ report }: { report: DrillReport }) {
  const w = report.writes;
  return (
    <section className="card drill-details" aria-labelledby="drill-title">
      <h3 id="drill-title">
        {report.kind === 'graceful' ? 'Graceful' : 'Ungraceful'} drill of {formatDateTime(report.startedAt)}:{' '}
        {report.ok ? 'passed' : 'failed'}
      </h3>
      <dl className="facts">
        <dt>RPO</dt>
        <dd>{formatCount(report.rpo)} acknowledged writes lost</dd>
        <dt>RTO</dt>
        <dd>{formatMs(report.rtoMs)} without writes</dd>
        <dt>Writes</dt>
        <dd>
          {formatCount(w.attempted)} attempted, {formatCount(w.acknowledged)} acknowledged, {formatCount(w.lost)} lost,{' '}
          {formatCount(w.duplicated)} duplicated
        </dd>
        <dt>Errors</dt>
        <dd>{report.errors.length ? report.errors.map((e) => `${e.code} × ${e.count}`).join(', ') : 'none'}</dd>
      </dl>
      <DrillTimeline timeline={report.timeline} />
    </section>
  );
}
