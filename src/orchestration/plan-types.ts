/**
 * @module The types of the operator plans (src/orchestration/plan.ts): the environment
 * they run in, their steps and results, and the error a plan stops with.
 */
import type { StateRecord } from '../core/app-state.js';

export interface PlanRegion {
  name: string;
  url: string;
  role: 'primary' | 'secondary';
}

export interface PlanEnvironment {
  appId: string;
  regions: readonly PlanRegion[];
  /** An admin bearer token, valid in every region. */
  token: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Waits between retries after a failed call (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

/** A state record as a region serves it: `region` is the region that answered. */
export type RegionRecord = StateRecord & {
  region: string;
  /** Whether the answering region reads the state register from a majority of voters. */
  quorum?: boolean;
  /** On a forced switch: what the old writer may have had that the new one had not applied. */
  possibleLoss?: Backlog & { region: string; basis?: string; unreportedMs?: number };
  /** On a change that waited for an old writer's lease to run out: whose, and how long. */
  waitedForLease?: { holder: string; epoch: number; waitedMs: number };
};

export type PlanName = 'fence' | 'failover' | 'failback' | 'activate';
export type PlanStepName = 'fence' | 'drain' | 'switch';
export type Backlog = { entries: number | null; bytes: number | null };

export interface PlanStep {
  step: PlanStepName;
  status: 'running' | 'done' | 'failed';
  /** ISO time the step started. */
  startedAt: string;
  durationMs?: number;
  detail?: string;
  /** Drain only: what the target still has to apply, as it last reported. */
  backlog?: Backlog;
}

export interface PlanOptions {
  reason?: string;
  onProgress?: (step: PlanStep) => void;
  /** How long the drain may take before the plan gives up (default 60 000 ms). */
  timeoutMs?: number;
}

export interface FailoverOptions extends PlanOptions {
  /** The region to move writes to: required when there are several secondaries. */
  to?: string;
  /**
   * Ungraceful: switch at once without fence or drain (the writer is unreachable).
   * What the old writer had not shipped may be lost; the new record says how much.
   */
  force?: boolean;
}

export interface PlanResult {
  plan: PlanName;
  /** The record after the plan, as the region that committed it answered. */
  record: RegionRecord;
  /** Every step, finished, in order. Empty when there was nothing to do. */
  timeline: PlanStep[];
  totalMs: number;
  /** Set when there was nothing to do, saying what already holds ("already fenced at epoch 4 ..."). */
  nothingToDo?: string;
}

export type PlanErrorCode =
  | 'drain_timeout'
  | 'unreachable'
  /** Not started, nothing changed: the region a plan needs does not answer, or reaches no majority of voters. */
  | 'target_unreachable'
  | 'writer_unreachable'
  | 'recorder_unreachable'
  | 'no_quorum'
  | 'invalid_request'
  | 'illegal_transition'
  | 'not_drained'
  | (string & {});

/** A plan that could not finish; `timeline` holds the steps done so far (the last one failed). */
export class PlanError extends Error {
  constructor(
    readonly code: PlanErrorCode,
    message: string,
    readonly status = 0,
    readonly details: Record<string, unknown> = {},
    public timeline: PlanStep[] = [],
  ) {
    super(message);
    this.name = 'PlanError';
  }
}
