/**
 * @module Runs an operator plan (src/orchestration/plan.ts, shared with the CLI) from
 * the console and keeps its progress as React state.
 */
import { useCallback, useRef, useState } from 'react';
import {
  activate,
  failback,
  failover,
  fence,
  type PlanResult,
  type PlanStep,
  type PlanStepName,
} from '../../../src/orchestration/plan.js';
import { describeError } from '../api';
import { useServices } from '../app/services';

export type PlanKind = 'fence' | 'failover' | 'failback' | 'activate';

export interface PlanRequest {
  kind: PlanKind;
  reason?: string;
  to?: string;
  force?: boolean;
}

export interface PlanRunState {
  title: string;
  status: 'running' | 'done' | 'failed';
  expected: PlanStepName[];
  steps: Partial<Record<PlanStepName, PlanStep>>;
  result?: PlanResult;
  summary?: string;
  error?: string;
  /** A forced switch: it waits for the old writer's lease to run out at a majority of voters. */
  forced?: boolean;
  /** The writer when the plan started. */
  from?: string;
}

export const PLAN_TITLE: Record<PlanKind, string> = {
  fence: 'Fence',
  failover: 'Fail over',
  failback: 'Fail back',
  activate: 'Activate',
};

function expectedSteps(req: PlanRequest): PlanStepName[] {
  if (req.kind === 'fence') return ['fence'];
  if (req.kind === 'activate' || req.force) return ['switch'];
  return ['fence', 'drain', 'switch'];
}

export function usePlanRunner(onFinished: () => void) {
  const { api, routing } = useServices();
  const [run, setRun] = useState<PlanRunState>();
  const running = useRef(false);

  const start = useCallback(
    async (req: PlanRequest) => {
      const config = routing.snapshot.config;
      const token = api.token();
      if (running.current || !config || !token) return;
      running.current = true;
      const title = `${PLAN_TITLE[req.kind]}${req.to ? ` to ${req.to}` : ''}${req.force ? ' (forced)' : ''}`;
      const from = routing.snapshot.record?.activeRegion;
      setRun({
        title,
        status: 'running',
        expected: expectedSteps(req),
        steps: {},
        ...(req.force ? { forced: true } : {}),
        ...(from ? { from } : {}),
      });
      const env = {
        appId: config.appId,
        regions: config.regions,
        token,
        fetch: (input: RequestInfo | URL, init?: RequestInit) => window.fetch(input, init),
      };
      const opts = {
        ...(req.reason ? { reason: req.reason } : {}),
        onProgress: (step: PlanStep) => setRun((old) => old && { ...old, steps: { ...old.steps, [step.step]: step } }),
      };
      try {
        const result =
          req.kind === 'fence'
            ? await fence(env, opts)
            : req.kind === 'activate'
              ? await activate(env, opts)
              : req.kind === 'failback'
                ? await failback(env, opts)
                : await failover(env, {
                    ...opts,
                    ...(req.to ? { to: req.to } : {}),
                    ...(req.force ? { force: true } : {}),
                  });
        const r = result.record;
        const summary =
          result.nothingToDo !== undefined
            ? `Nothing to do: ${result.nothingToDo}.`
            : r.state === 'fenced'
              ? `Fenced at epoch ${r.epoch}: writes are paused everywhere.`
              : `${r.activeRegion} takes writes (${r.state}, epoch ${r.epoch}).`;
        setRun((old) => old && { ...old, status: 'done', result, summary });
      } catch (err) {
        setRun((old) => old && { ...old, status: 'failed', error: describeError(err, 'operation') });
      } finally {
        running.current = false;
        void routing.refresh();
        onFinished();
      }
    },
    [api, routing, onFinished],
  );

  return { run, start, busy: run?.status === 'running' };
}
