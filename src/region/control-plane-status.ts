/**
 * @module The control plane as a region sees it, for `/status`, `mraa status`, the
 * operations page and `/metrics`: each voter's reachability and the lease it has
 * granted, whether this region reads the register (quorum), and its own lease.
 */
import type { Metrics } from '../http/metrics.js';
import type { ControlPlane, VoterHealth } from '../ports/control-plane.js';
import type { StateFollower } from '../routing/state-follower.js';
import type { WriterLease } from '../routing/writer-lease.js';

export interface ControlPlaneView {
  kind: string;
  leaseMs: number;
  quorum: boolean;
  error: string | null;
  voters: VoterHealth[];
  /** The writer lease this region holds, if it holds one. */
  lease: { holder: string; epoch: number; remainingMs: number } | null;
  leaseError: string | null;
}

export async function controlPlaneStatus(deps: {
  appId: string;
  kind: string;
  leaseMs: number;
  plane: ControlPlane;
  lease: WriterLease;
  follower: StateFollower;
}): Promise<ControlPlaneView> {
  return {
    kind: deps.kind,
    leaseMs: deps.leaseMs,
    quorum: deps.follower.quorum,
    error: deps.follower.error ?? null,
    voters: await deps.plane.health(deps.appId).catch(() => []),
    lease: deps.lease.status() ?? null,
    leaseError: deps.lease.error ?? null,
  };
}

/** Gauges read at scrape time; voter reachability is refreshed in the background (scrapes stay cheap). */
export function controlPlaneMetrics(
  metrics: Metrics,
  deps: { appId: string; plane: ControlPlane; lease: WriterLease; follower: StateFollower },
): () => void {
  let voters: VoterHealth[] = [];
  const poll = async () => {
    voters = await deps.plane.health(deps.appId).catch(() => voters);
  };
  const timer = setInterval(() => void poll(), 5000);
  timer.unref();
  void poll();
  metrics.gaugeFn('mraa_voter_reachable', '1 when this region reaches the voter', ['voter'], (set) => {
    for (const v of voters) set({ voter: v.name }, v.reachable ? 1 : 0);
  });
  metrics.gaugeFn(
    'mraa_control_plane_quorum',
    '1 when this region reads the state register from a majority',
    [],
    (set) => set({}, deps.follower.quorum ? 1 : 0),
  );
  metrics.gaugeFn(
    'mraa_writer_lease_remaining_seconds',
    'Time left on the writer lease this region holds (0 when it holds none)',
    [],
    (set) => set({}, (deps.lease.status()?.remainingMs ?? 0) / 1000),
  );
  return () => clearInterval(timer);
}
