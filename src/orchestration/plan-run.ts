/**
 * @module Times the steps of one plan and reports each as it starts, progresses and ends.
 */
import {
  type PlanEnvironment,
  PlanError,
  type PlanName,
  type PlanOptions,
  type PlanResult,
  type PlanStep,
  type PlanStepName,
  type RegionRecord,
} from './plan-types.js';

/** Times the steps of one plan and reports them. */
export class PlanRun {
  private readonly timeline: PlanStep[] = [];
  private readonly started: number;

  constructor(
    private readonly env: PlanEnvironment,
    private readonly plan: PlanName,
    private readonly opts: PlanOptions,
  ) {
    this.started = this.now();
  }

  private now(): number {
    return (this.env.now ?? Date.now)();
  }

  private emit(step: PlanStep): void {
    this.opts.onProgress?.({ ...step });
  }

  async step<T>(name: PlanStepName, work: (progress: (update: Partial<PlanStep>) => void) => Promise<T>): Promise<T> {
    const t0 = this.now();
    const step: PlanStep = { step: name, status: 'running', startedAt: new Date(t0).toISOString() };
    this.emit(step);
    try {
      const value = await work((update) => this.emit(Object.assign(step, update)));
      step.status = 'done';
      if (typeof value === 'string') step.detail = value;
      else if (isRecord(value)) step.detail = describeRecord(value);
      return value;
    } catch (err) {
      step.status = 'failed';
      step.detail = (err as Error).message;
      const planError = err instanceof PlanError ? err : new PlanError('failed', (err as Error).message);
      planError.timeline = this.timeline;
      throw planError;
    } finally {
      step.durationMs = this.now() - t0;
      this.timeline.push({ ...step });
      this.emit(step);
    }
  }

  skipped(name: PlanStepName, detail: string): void {
    const step: PlanStep = {
      step: name,
      status: 'done',
      startedAt: new Date(this.now()).toISOString(),
      durationMs: 0,
      detail,
    };
    this.timeline.push(step);
    this.emit(step);
  }

  result(record: RegionRecord): PlanResult {
    return { plan: this.plan, record, timeline: this.timeline, totalMs: this.now() - this.started };
  }

  /** The plan had nothing to do: `why` says what already holds. */
  nothing(record: RegionRecord, why: string): PlanResult {
    return { ...this.result(record), nothingToDo: why };
  }
}

function isRecord(value: unknown): value is RegionRecord {
  return typeof value === 'object' && value !== null && 'epoch' in value && 'state' in value;
}

function describeRecord(r: RegionRecord): string {
  return r.state === 'fenced'
    ? `fenced at epoch ${r.epoch} (writer was ${r.activeRegion})`
    : `${r.state}: ${r.activeRegion} takes writes (epoch ${r.epoch})`;
}
