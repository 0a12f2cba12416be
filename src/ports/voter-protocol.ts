/**
 * @module The voter protocol of the embedded control plane: the messages between a
 * proposer and the voters (CASPaxos acceptors, src/adapters/voters/), their ballots,
 * the value of the register, and the two ends a transport connects (`VoterLink` on the
 * proposer's side, `VoterEndpoint` on the voter's). Pure: no I/O. The same shapes
 * travel over HTTP (src/peers/voter-link.ts, src/peers/voter.routes.ts) and through the
 * deterministic simulation.
 */
import type { StateRecord } from '../core/app-state.js';

/** A CASPaxos ballot: a counter, ties broken by the proposer's name. */
export interface Ballot {
  n: number;
  by: string;
}

export function compareBallots(a: Ballot | null, b: Ballot | null): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  if (a.n !== b.n) return a.n < b.n ? -1 : 1;
  if (a.by !== b.by) return a.by < b.by ? -1 : 1;
  return 0;
}

/** The register's value: the state record and the id of the change that made it. */
export interface RegisterValue {
  record: StateRecord;
  changeId: string;
}

export interface Accepted {
  ballot: Ballot;
  value: RegisterValue;
}

/** What a voter keeps on disk, per app, fsynced before it answers. */
export interface DurableVoterState {
  promise: Ballot | null;
  accepted: Accepted | null;
}

export type VoterRequest =
  | { op: 'peek'; appId: string }
  | { op: 'prepare'; appId: string; ballot: Ballot }
  | { op: 'accept'; appId: string; ballot: Ballot; value: RegisterValue }
  | { op: 'grant'; appId: string; holder: string; epoch: number; durationMs: number; logHead: number }
  | { op: 'release'; appId: string; holder: string; epoch: number }
  | { op: 'status'; appId: string }
  /** Break-glass (`mraa voters replace`), from the operator only: this value, at this ballot, whatever was before. */
  | { op: 'seed'; appId: string; ballot: Ballot; value: RegisterValue };

export interface LeaseInfo {
  holder: string;
  epoch: number;
  remainingMs: number;
}

export type VoterReply =
  | { ok: true; op: 'peek'; accepted: Accepted | null }
  | { ok: true; op: 'prepare'; accepted: Accepted | null }
  | { ok: false; op: 'prepare' | 'accept'; reason: 'ballot'; promised: Ballot }
  | { ok: true; op: 'accept' }
  | { ok: false; op: 'accept'; reason: 'lease'; lease: LeaseInfo }
  | { ok: true; op: 'grant' }
  | { ok: false; op: 'grant'; reason: 'not_writer' | 'moving'; epoch: number | null }
  | { ok: true; op: 'release' }
  | { ok: true; op: 'seed' }
  | { ok: false; op: 'seed'; reason: 'forbidden' }
  | {
      ok: true;
      op: 'status';
      lease: LeaseInfo | null;
      reports: Array<{ region: string; epoch: number; logHead: number; ageMs: number }>;
      accepted: Accepted | null;
    };

/** A voter as a transport delivers to it: `from` is the authenticated sender. */
export interface VoterEndpoint {
  handle(request: VoterRequest, from: string): Promise<VoterReply>;
}

/** Transport from a proposer to one voter. Rejects when the voter cannot be reached. */
export interface VoterLink {
  readonly name: string;
  send(request: VoterRequest, timeoutMs: number): Promise<VoterReply>;
}
