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
  /** The link's state and the sentence to show (absent from servers older than issue 12). */
  state?: LinkState;
  /** Entries the peer holds of a log id this region lost (a restore, a lost tail). */
  notice?: string | null;
}

/** How a replication link stands (src/replication/link-state.ts). */
export type LinkState =
  | { kind: 'shipping' }
  | { kind: 'following' }
  | { kind: 'refused'; reason: string; message: string; since: string }
  | { kind: 'needs-rebuild'; reason: string; message: string; since: string };

export interface OriginStatus {
  name: string;
  appliedSeq: number;
  originHead: number;
  barrierEpoch: number;
  lagMs: number | null;
  lastContactAt: string | null;
  state?: LinkState;
}

/** A writer lease: `remainingMs` on the clock of whoever reports it. */
export interface LeaseView {
  holder: string;
  epoch: number;
  remainingMs: number;
}

/** One voter (a region or a witness) as the answering region sees it. */
export interface VoterHealth {
  name: string;
  reachable: boolean;
  error?: string;
  /** The lease this voter has granted, if any is unexpired on its clock. */
  lease?: LeaseView;
}

/** The control plane as a region sees it (src/region/control-plane-status.ts, DESIGN §3a). */
export interface ControlPlaneView {
  kind: string;
  leaseMs: number;
  /** Whether this region reads the state register from a majority of voters. */
  quorum: boolean;
  error: string | null;
  voters: VoterHealth[];
  /** The writer lease this region holds, if it holds one. */
  lease: LeaseView | null;
  leaseError: string | null;
}

/** `GET /status` (admin). */
export interface RegionStatus {
  region: string;
  appId: string;
  /** Null while the region has not read the state yet. */
  state: StateRecord | null;
  writer: boolean;
  log: { head: number; tail: number; entries: number };
  peers: PeerStatus[];
  origins: OriginStatus[];
  conflicts: number;
  /** Absent from servers older than the control plane. */
  controlPlane?: ControlPlaneView;
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
