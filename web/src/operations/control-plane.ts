/**
 * @module The control plane (DESIGN §3a) as the operations console shows it, from each
 * region's polled `/status`: every voter with its reachability from each region and the
 * lease it has granted, the writer lease as its holder counts it, and which regions
 * read the state register from a majority of voters.
 */
import type { LeaseView, RegionStatus } from '../api';
import type { RegionPoll } from './useRegionPolling';

/** One region's word on one voter: undefined when that region gave no `/status`. */
export interface VoterSighting {
  from: string;
  reachable: boolean | undefined;
  error?: string;
}

export interface VoterRow {
  name: string;
  kind: 'region' | 'witness';
  seenFrom: VoterSighting[];
  /** The lease this voter has granted (the freshest report), with when it was polled. */
  grant?: LeaseView & { checkedAt: number };
}

export interface WriterLease extends LeaseView {
  leaseMs: number;
  /** When the holder was polled: the time left runs down from there. */
  checkedAt: number;
}

export interface ControlPlaneSummary {
  /** False when no region answered with a control plane (an older server, or all down). */
  known: boolean;
  kind: string | undefined;
  leaseMs: number | undefined;
  voters: VoterRow[];
  /** The lease as its holder counts it; undefined when no region that answered holds one. */
  lease: WriterLease | undefined;
  /** The writer named by the newest record among the regions that answered. */
  writer: string | undefined;
  /** Whether that writer answered its `/status`. */
  writerAnswered: boolean;
  /** Why the writer (as its own record says) holds no lease. */
  leaseError: string | undefined;
  /** Per region that answered: whether it reads the register from a majority of voters. */
  quorum: Array<{ region: string; quorum: boolean; error: string | null }>;
  /** No region that answered has a quorum: writes are paused everywhere. */
  noQuorum: boolean;
}

export function controlPlaneSummary(
  regions: readonly string[],
  polls: Readonly<Record<string, RegionPoll | undefined>>,
): ControlPlaneSummary {
  const answered = regions.flatMap((name) => {
    const poll = polls[name];
    const cp = poll?.status?.controlPlane;
    return cp && poll?.status ? [{ name, status: poll.status, cp, checkedAt: poll.checkedAt ?? Date.now() }] : [];
  });
  const names: string[] = [];
  for (const a of answered) for (const v of a.cp.voters) if (!names.includes(v.name)) names.push(v.name);

  const voters = names.map((name): VoterRow => {
    const seenFrom = regions.map((from): VoterSighting => {
      const v = answered.find((a) => a.name === from)?.cp.voters.find((x) => x.name === name);
      return { from, reachable: v?.reachable, ...(v?.error ? { error: v.error } : {}) };
    });
    let grant: VoterRow['grant'];
    for (const a of answered) {
      const lease = a.cp.voters.find((x) => x.name === name)?.lease;
      if (lease && (!grant || remainingAt(lease, a.checkedAt) > remainingAt(grant, grant.checkedAt))) {
        grant = { ...lease, checkedAt: a.checkedAt };
      }
    }
    return { name, kind: regions.includes(name) ? 'region' : 'witness', seenFrom, ...(grant ? { grant } : {}) };
  });

  const holder = answered.find((a) => a.cp.lease);
  const lease = holder?.cp.lease
    ? { ...holder.cp.lease, leaseMs: holder.cp.leaseMs, checkedAt: holder.checkedAt }
    : undefined;
  let newest: RegionStatus['state'] = null;
  for (const a of answered) if (a.status.state && a.status.state.epoch > (newest?.epoch ?? 0)) newest = a.status.state;
  const writerName = newest?.activeRegion;
  const writer = answered.find((a) => a.name === writerName);
  const quorum = answered.map((a) => ({ region: a.name, quorum: a.cp.quorum, error: a.cp.error }));
  return {
    known: answered.length > 0,
    kind: answered[0]?.cp.kind,
    leaseMs: answered[0]?.cp.leaseMs,
    voters,
    lease,
    writer: writerName,
    writerAnswered: !!writer,
    leaseError: lease ? undefined : (writer?.cp.leaseError ?? undefined),
    quorum,
    noQuorum: quorum.length > 0 && quorum.every((q) => !q.quorum),
  };
}

/** Time left on a lease reported at `checkedAt`, as of `now`. */
export function remainingAt(lease: LeaseView, checkedAt: number, now = checkedAt): number {
  return Math.max(0, lease.remainingMs - Math.max(0, now - checkedAt));
}
