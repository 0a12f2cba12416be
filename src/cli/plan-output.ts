/**
 * @module How the CLI shows a plan running: one line per step as it starts and ends,
 * the drain's backlog updated in place, and the timeline as a table at the end.
 */
import type { PlanStep } from '../orchestration/plan.js';
import { dim, formatMs, green, red, table } from './format.js';

const LABEL: Record<PlanStep['step'], string> = {
  fence: 'fence writes',
  drain: 'drain replication',
  switch: 'switch the writer',
};

export function progressPrinter(): (step: PlanStep) => void {
  const tty = process.stdout.isTTY;
  let lastDetail = '';
  let open = false;
  return (step) => {
    if (step.status === 'running') {
      const line = `… ${LABEL[step.step]}${step.detail ? `: ${step.detail}` : ''}`;
      if (tty) {
        process.stdout.write(`\r\u001b[2K${line}`);
        open = true;
      } else if (step.detail !== lastDetail || !open) {
        console.log(line);
        open = true;
      }
      lastDetail = step.detail ?? '';
      return;
    }
    if (tty && open) process.stdout.write('\r\u001b[2K');
    open = false;
    lastDetail = '';
    const mark = step.status === 'done' ? green('✓') : red('✗');
    console.log(
      `${mark} ${LABEL[step.step]} (${formatMs(step.durationMs ?? 0)})${step.detail ? dim(`: ${step.detail}`) : ''}`,
    );
  };
}

export function timelineTable(timeline: PlanStep[]): string {
  return table(
    ['STEP', 'STARTED', 'DURATION', 'RESULT'],
    timeline.map((s) => [
      LABEL[s.step],
      s.startedAt.slice(11, 23),
      formatMs(s.durationMs ?? 0),
      s.status === 'done' ? green('done') : red('failed'),
    ]),
  );
}
