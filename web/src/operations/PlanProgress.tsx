/**
 * @module A plan's progress, step by step (fence → drain, with the backlog → switch →
 * done), each with its duration; a failure in plain words; for a forced switch, the
 * wait for the old writer's lease and the possible loss with its basis.
 */
import type { PlanStep, PlanStepName } from '../../../src/orchestration/plan.js';
import { formatMs } from '../ui/format';
import { useNow } from '../ui/useNow';
import { forcedWaitLine, lossLines, waitedLine } from './plan-notes';
import type { PlanRunState } from './usePlanRunner';

const TITLE: Record<PlanStepName, string> = { fence: 'Fence', drain: 'Drain', switch: 'Switch' };

export function PlanProgress({ run, leaseMs }: { run: PlanRunState; leaseMs?: number | undefined }) {
  const now = useNow(run.status === 'running');
  const record = run.status === 'done' ? run.result?.record : undefined;
  const waited = record && waitedLine(record);
  const loss = record && lossLines(record);
  return (
    <section className="plan-progress" aria-live="polite" aria-labelledby="plan-progress-title">
      <h3 id="plan-progress-title">{run.title}</h3>
      <ol className="steps">
        {run.expected.map((name) => {
          const step = run.steps[name];
          const waiting =
            run.forced && name === 'switch' && step?.status === 'running'
              ? forcedWaitLine(run.from, leaseMs)
              : undefined;
          return (
            <StepLine
              key={name}
              name={name}
              step={step}
              finished={run.status !== 'running'}
              now={now}
              waiting={waiting}
            />
          );
        })}
        <li className={`step step-${run.status === 'done' ? 'done' : run.status === 'failed' ? 'failed' : 'pending'}`}>
          <span className="step-name">Done</span>
          <span className="step-detail step-wide">
            {run.status === 'done' && run.result && `${run.summary} Total ${formatMs(run.result.totalMs)}.`}
            {run.status === 'failed' && <span className="error-text">{run.error}</span>}
            {run.status === 'running' && <span className="muted">in progress…</span>}
          </span>
        </li>
      </ol>
      {(waited || loss) && (
        <ul className="plan-notes">
          {waited && <li className="plan-waited">{waited}</li>}
          {loss && (
            <li className="plan-loss">
              <strong>Possible loss:</strong> {loss.loss.replace(/^Possible loss: /, '')} {loss.recovery}
            </li>
          )}
        </ul>
      )}
    </section>
  );
}

function StepLine({
  name,
  step,
  finished,
  now,
  waiting,
}: {
  name: PlanStepName;
  step: PlanStep | undefined;
  finished: boolean;
  now: number;
  /** What a running step waits for, when its own detail does not say. */
  waiting?: string | undefined;
}) {
  const status = step?.status ?? (finished ? 'skipped' : 'pending');
  const elapsed =
    step?.durationMs ?? (step?.status === 'running' ? Math.max(0, now - Date.parse(step.startedAt)) : undefined);
  return (
    <li className={`step step-${status}`}>
      <span className="step-name">{TITLE[name]}</span>
      <span className="step-status">{statusWord(status)}</span>
      <span className="step-duration">{elapsed !== undefined ? formatMs(elapsed) : ''}</span>
      <span className="step-detail">
        {step?.detail ?? waiting}
        {status === 'skipped' && 'not needed'}
      </span>
    </li>
  );
}

function statusWord(status: string): string {
  return (
    { running: 'running…', done: 'done', failed: 'failed', pending: 'waiting', skipped: 'skipped' }[status] ?? status
  );
}
