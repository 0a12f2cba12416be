/**
 * @module Whether the app can take writes now, and if not, why (shown beside every
 * disabled upload or comment control): no region answers, the application is fenced,
 * or the regions cannot agree (no majority of voters: DESIGN §3a).
 */
import type { RegionView, RoutingSnapshot, StateRecord } from '../../../src/routing/client/index.js';

export type PauseKind = 'down' | 'fenced' | 'no_quorum';

export interface WritesPaused {
  kind: PauseKind;
  /** One sentence: why nothing can be saved now. */
  reason: string;
}

export const PAUSE_REASON: Record<PauseKind, string> = {
  down: 'No region answers at the moment, so nothing can be saved.',
  fenced: 'Writes are paused while the application is fenced.',
  no_quorum: 'Writes are paused because the regions cannot agree: not enough voters are reachable.',
};

/**
 * Why writes are paused, or undefined when they are not. `refused` is true while a
 * write answered 503 `no_quorum` and no region has said since that it has its quorum.
 */
export function writesPaused(snapshot: RoutingSnapshot, refused = false): WritesPaused | undefined {
  const record = snapshot.record;
  if (!record) return paused('down');
  if (record.state === 'fenced') return paused('fenced');
  if (refused || followedQuorum(snapshot) === false) return paused('no_quorum');
  return undefined;
}

/** When the controls of `what` ("Uploads", "Comments") come back, as a sentence. */
export function resumesWhen(kind: PauseKind, what: string): string {
  switch (kind) {
    case 'down':
      return `${what} resume once a region answers again.`;
    case 'fenced':
      return `${what} resume once the application is active again.`;
    case 'no_quorum':
      return `${what} resume by themselves as soon as the regions agree again.`;
  }
}

/**
 * Whether the region the client follows reads the state from a majority of voters:
 * the writer's word while its event stream is open (or when no stream is, as in tests);
 * when the writer's stream is down, the word of the regions whose streams are open
 * (false only if each of them says false). Undefined when unknown (an older server).
 */
export function followedQuorum(snapshot: RoutingSnapshot): boolean | undefined {
  const writer = followedRegion(snapshot);
  const open = snapshot.regions.filter((r) => r.streaming && r.record);
  if (writer?.record && (writer.streaming || open.length === 0)) return writer.record.quorum;
  const said = open.map((r) => r.record?.quorum).filter((q): q is boolean => q !== undefined);
  if (said.length === 0) return writer?.record?.quorum;
  return said.some((q) => q);
}

/** The region writes go to: the newest record's `activeRegion`. */
export function followedRegion(snapshot: RoutingSnapshot): RegionView | undefined {
  const name = snapshot.record?.activeRegion;
  return name === undefined ? undefined : snapshot.regions.find((r) => r.name === name);
}

/** The record the followed region reported last (a new object on every change it pushes). */
export function followedRecord(snapshot: RoutingSnapshot): StateRecord | undefined {
  return followedRegion(snapshot)?.record;
}

function paused(kind: PauseKind): WritesPaused {
  return { kind, reason: PAUSE_REASON[kind] };
}
