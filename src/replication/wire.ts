/**
 * @module What shippers send and appliers answer: the replication wire format.
 */
import type { LogEntry } from '../core/change.js';

export interface BatchRequest {
  origin: string;
  /** The origin's log head when the batch was read. */
  originHead: number;
  /** Commit time of the first entry the origin has not sent yet (null: the batch reaches its head). */
  pendingSince: number | null;
  /** The newest state epoch the origin knows: a receiver that knows less asks for the newer record. */
  epoch: number;
  entries: LogEntry[];
}

export interface BatchResponse {
  /** The highest sequence of the origin's log applied by the receiver (after this batch): send from here. */
  applied: number;
  /** The highest sequence applied and on the receiver's disk: the origin may compact up to here. */
  durable: number;
  /** Bodies the receiver needs before it can apply the rest of the batch. */
  missingBlobs: string[];
  epoch: number;
}

export const BATCH_PATH = '/internal/replication/batch';
export const BLOB_PATH = '/internal/replication/blobs/';
