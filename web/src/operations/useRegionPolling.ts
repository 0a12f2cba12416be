/**
 * @module Polls every region's health and `/status` (and, on a local deployment, the
 * edge's region processes) every 1.5 s, and keeps the last five minutes of
 * replication lag per peer for the chart.
 */
import { useEffect, useState } from 'react';
import type { RegionConfig } from '../../../src/routing/client/index.js';
import { describeError, type LocalRegion, type RegionStatus } from '../api';
import { useServices } from '../app/services';

export const POLL_MS = 1500;
export const HISTORY_MS = 5 * 60_000;

export interface RegionPoll {
  health: 'up' | 'down' | 'unknown';
  status?: RegionStatus;
  statusError?: string;
  checkedAt?: number;
}

/** One point of the lag chart: `t` and, per "source → peer" series, the lag in ms. */
export type LagPoint = { t: number } & Record<string, number | null>;

export interface Polling {
  regions: Record<string, RegionPoll>;
  history: LagPoint[];
  /** The edge's processes; undefined when not a local deployment (or not known yet). */
  local: LocalRegion[] | undefined;
  localError: string | undefined;
  /** Poll at once (after a button changed something). */
  pollNow(): void;
}

export function seriesKey(source: string, peer: string): string {
  return `${source} → ${peer}`;
}

export function useRegionPolling(regions: readonly RegionConfig[]): Polling {
  const { api } = useServices();
  const [state, setState] = useState<Omit<Polling, 'pollNow'>>({
    regions: {},
    history: [],
    local: undefined,
    localError: undefined,
  });
  const [tick, setTick] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the trigger that polls again now
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let isLocal = true;

    async function pollOnce() {
      const results = await Promise.all(
        regions.map(async (region): Promise<[string, RegionPoll]> => {
          const checkedAt = Date.now();
          try {
            await api.operations.health(region, ac.signal);
          } catch {
            return [region.name, { health: 'down', checkedAt }];
          }
          try {
            return [region.name, { health: 'up', status: await api.operations.status(region, ac.signal), checkedAt }];
          } catch (err) {
            return [region.name, { health: 'up', statusError: describeError(err, 'load'), checkedAt }];
          }
        }),
      );
      let local: LocalRegion[] | undefined;
      let localError: string | undefined;
      if (isLocal) {
        try {
          local = await api.operations.localRegions(ac.signal);
          if (!local) isLocal = false;
        } catch (err) {
          localError = describeError(err, 'load');
        }
      }
      if (ac.signal.aborted) return;
      const now = Date.now();
      const point: LagPoint = { t: now };
      for (const [name, poll] of results)
        for (const peer of poll.status?.peers ?? []) point[seriesKey(name, peer.name)] = peer.lagMs;
      setState((old) => ({
        regions: Object.fromEntries(results),
        history: [...old.history.filter((p) => p.t >= now - HISTORY_MS), point],
        local: isLocal ? (local ?? old.local) : undefined,
        localError,
      }));
    }

    async function loop() {
      try {
        await pollOnce();
      } catch {
        /* every call's failure is already part of the poll; keep polling */
      }
      if (!ac.signal.aborted) timer = setTimeout(loop, POLL_MS);
    }
    void loop();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [api, regions, tick]);

  return { ...state, pollNow: () => setTick((n) => n + 1) };
}
