/**
 * @module The operator's reads: each region's health and `/status` (admin), and, on a
 * local deployment only, the edge's region processes and drill reports.
 */
import type { RegionConfig } from '../../../src/routing/client/index.js';
import { ApiError } from './errors';
import type { Transport } from './transport';
import type { DrillReport, DrillSummary, LocalRegion, RegionStatus } from './types';

const POLL_TIMEOUT_MS = 1500;
/** The edge's local routes exist only on `mraa up`: a refusal there does not end the session. */
const EDGE = { endsSession: false } as const;

export class OperationsApi {
  constructor(private readonly t: Transport) {}

  health(region: RegionConfig, signal?: AbortSignal): Promise<{ status: string; region: string }> {
    return this.t.at(region.url, '/healthz', {
      auth: false,
      timeoutMs: POLL_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
  }

  status(region: RegionConfig, signal?: AbortSignal): Promise<RegionStatus> {
    return this.t.at(region.url, '/status', { timeoutMs: POLL_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  }

  /** The edge's region processes, or undefined when this is not a local deployment (404). */
  async localRegions(signal?: AbortSignal): Promise<LocalRegion[] | undefined> {
    try {
      const body = await this.t.at<{ regions: LocalRegion[] }>('', '/local/regions', {
        ...EDGE,
        timeoutMs: POLL_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      });
      return body.regions;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async stopRegion(name: string): Promise<void> {
    await this.t.at('', `/local/regions/${encodeURIComponent(name)}/stop`, { ...EDGE, method: 'POST' });
  }

  async startRegion(name: string): Promise<void> {
    await this.t.at('', `/local/regions/${encodeURIComponent(name)}/start`, { ...EDGE, method: 'POST' });
  }

  /** Drill reports, newest first; undefined when this is not a local deployment. */
  async drills(signal?: AbortSignal): Promise<DrillSummary[] | undefined> {
    try {
      const body = await this.t.at<{ reports: DrillSummary[] }>('', '/local/drills', {
        ...EDGE,
        ...(signal ? { signal } : {}),
      });
      return [...body.reports].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  drill(id: string, signal?: AbortSignal): Promise<DrillReport> {
    return this.t.at('', `/local/drills/${encodeURIComponent(id)}`, { ...EDGE, ...(signal ? { signal } : {}) });
  }
}
