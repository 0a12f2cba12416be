/**
 * @module A plan's progress, step by step (fence → drain, with the backlog → switch →
 * done), each with its duration; a failure in plain words.
 */
import { useEffect, useState } from 'react';
import type { PlanStep, PlanStepName } from '../../../src/orchestration/plan.js';
import { formatMs } from '../ui/format';
import type { PlanRunState } from './usePlanRunner';

const TITLE: Record<PlanStepName, string> = { fence: 'Fence', drain: 'Drain', switch: 'Switch' };

export function PlanProgress({ run }: { run: PlanRunState }) {
  const now = useNow(run.status === 'running');
  return (
    <section className="plan-progress" aria-live="polite" aria-labelledby="plan-progress-title">
      <h3 id="plan-progress-title">{run.title}</h3>
      <ol className="steps">
        {run.expected.map((name) => {
          const step = run.steps[name];
          return <StepLine key={name} name={name} step={step} finished={run.status !== 'running'} now={now} />;
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
    </section>
  );
}

function StepLine({
  name,
  step,
  finished,
  now,
}: {
  name: PlanStepName;
  step: PlanStep | undefined;
  finished: boolean;
  now: number;
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
        {step?.detail}
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

/** The current time, ticking every 200 ms while `active`. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}
