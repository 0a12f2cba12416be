/**
 * @module The routing layer's data as clients see it: the edge's `/config.json`, the
 * state record every region serves (DESIGN §3), and the client's snapshot of both.
 */
import type { AppStateName, StateRecord as CoreStateRecord } from '../../core/app-state.js';

export type RegionRole = 'primary' | 'secondary';

export interface RegionConfig {
  name: string;
  url: string;
  role: RegionRole;
}

/** `GET /config.json` on the edge. */
export interface AppConfig {
  appId: string;
  regions: RegionConfig[];
}

export type { AppStateName };

/**
 * `GET /state/{appId}`: `region` is the region that answered; `quorum`, whether it reads
 * the state register from a majority of voters (DESIGN §3a; absent from older servers).
 */
export type StateRecord = CoreStateRecord & { region?: string; quorum?: boolean };

/** What the client knows of one region. */
export interface RegionView extends RegionConfig {
  /** Whether its last state request or event stream succeeded (undefined: not asked yet). */
  reachable: boolean | undefined;
  /** Whether its event stream is open now. */
  streaming: boolean;
  /** The last record this region reported. */
  record?: StateRecord;
}

/** An immutable picture of the routing state; a new object on every change. */
export interface RoutingSnapshot {
  status: 'loading' | 'ready' | 'error';
  /** Why the configuration could not be loaded (status "error"). */
  error?: string;
  config?: AppConfig;
  /** The newest record any region reported (highest epoch wins). */
  record?: StateRecord;
  /** The writer's region (`record.activeRegion`): where writes, and reads, go. */
  writer?: RegionConfig;
  regions: RegionView[];
}

export type RoutingListener = (snapshot: RoutingSnapshot) => void;

/** The part of `EventSource` the client uses: the browser's, or the `eventsource` package's in Node. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;
