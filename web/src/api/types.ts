/**
 * @module The shapes of the region servers' and the edge's JSON answers (DESIGN §6).
 */
import type { StateRecord } from '../../../src/routing/client/index.js';

export type Role = 'admin' | 'user';

export interface User {
  username: string;
  role: Role;
  createdAt: string;
  mustChangePassword?: true;
}

export interface SignInResult {
  token: string;
  expiresAt: string;
  user: User;
}

export interface Photo {
  photoId: string;
  owner: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
  sha256: string;
  createdAt: string;
}

export interface PhotoPage {
  photos: Photo[];
  nextCursor: string | null;
  /** `X-Replica-Lag-Ms` when a passive region answered. */
  replicaLagMs: number | null;
}

export interface Comment {
  commentId: string;
  photoId: string;
  user: string;
  message: string;
  createdAt: string;
}

export interface Backlog {
  entries: number | null;
  bytes: number | null;
}

export interface PeerStatus {
  name: string;
  url: string;
  connected: boolean;
  ackedSeq: number;
  backlog: Backlog;
  lagMs: number | null;
  lastAckAt: string | null;
  lastError: string | null;
}

export interface OriginStatus {
  name: string;
  appliedSeq: number;
  originHead: number;
  barrierEpoch: number;
  lagMs: number | null;
  lastContactAt: string | null;
}

/** `GET /status` (admin). */
export interface RegionStatus {
  region: string;
  appId: string;
  state: StateRecord;
  writer: boolean;
  log: { head: number; tail: number; entries: number };
  peers: PeerStatus[];
  origins: OriginStatus[];
  conflicts: number;
}

/** `GET /local/regions` on the edge of a local deployment. */
export interface LocalRegion {
  name: string;
  pid: number | null;
  running: boolean;
  exit?: { code: number | null; signal: string | null; at: number };
}

export interface DrillSummary {
  id: string;
  startedAt: string;
  kind: 'graceful' | 'ungraceful';
  ok: boolean;
  rpo: number;
  rtoMs: number;
}

export interface DrillReport extends DrillSummary {
  writes: { attempted: number; acknowledged: number; lost: number; duplicated: number };
  errors: Array<{ code: string; count: number }>;
  timeline: Array<{ step: string; startedAt: string; durationMs: number; detail?: string }>;
}
