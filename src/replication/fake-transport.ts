/**
 * @module An in-memory peer transport for the shipper and applier unit tests: it hands
 * batches straight to an applier (as the HTTP route does, entries parsed from their
 * stored JSON) and bodies to the receiver's bodies, telling the applier once a body is
 * there. `cut` makes every call fail as an unreachable peer would; `tamper` rewrites
 * answers; `fate` decides what happens to each batch on the way (lost, delivered twice,
 * or held back so that later ones overtake it).
 */
import { Readable } from 'node:stream';
import type { Change, LogEntry } from '../core/change.js';
import type { RawLogEntry } from '../ports/change-log.js';
import type {
  BatchHead,
  BatchResponse,
  CallOptions,
  DrainStatus,
  LogPosition,
  PeerAddress,
  PeerTransport,
} from '../ports/peer-transport.js';
import type { ReplicaStore } from '../ports/replica-store.js';
import type { Applier } from './applier.js';
import type { MemoryBodies } from './fakes.js';

/** What happens to a batch on the way: delivered, lost (the call times out), delivered twice, or late. */
export type BatchFate = 'deliver' | 'drop' | 'twice' | Promise<void>;

export class LoopbackTransport implements PeerTransport {
  cut = false;
  sent: BatchHead[] = [];
  /** Entries of every batch sent, in the order they left. */
  sentEntries: number[][] = [];
  bodiesSent: string[] = [];
  tamper: ((res: BatchResponse) => BatchResponse) | undefined;
  fate: ((head: BatchHead, entries: readonly RawLogEntry[], n: number) => BatchFate) | undefined;
  /** Bodies held back until this resolves (a body slower than the log). */
  bodyGate: Promise<void> | undefined;

  constructor(
    private readonly receiver: { applier: Applier; store: ReplicaStore; bodies: MemoryBodies; epoch?: number },
  ) {}

  async sendBatch(
    _peer: PeerAddress,
    head: BatchHead,
    entries: readonly RawLogEntry[],
    _options: CallOptions,
  ): Promise<BatchResponse> {
    if (this.cut) throw new Error('ECONNREFUSED');
    const n = this.sent.length;
    this.sent.push(head);
    this.sentEntries.push(entries.map((e) => e.seq));
    const fate = this.fate?.(head, entries, n) ?? 'deliver';
    if (fate === 'drop') throw new Error('timed out');
    if (fate instanceof Promise) await fate;
    const parsed: LogEntry[] = entries.map((e) => ({
      seq: e.seq,
      createdAt: e.createdAt,
      bytes: e.bytes,
      change: JSON.parse(e.json) as Change,
    }));
    const deliver = async () => ({
      ...(await this.receiver.applier.apply({ ...head, entries: parsed })),
      epoch: this.receiver.epoch ?? 1,
    });
    if (fate === 'twice') await deliver();
    const res = await deliver();
    return this.tamper ? this.tamper(res) : res;
  }

  async sendBody(
    _peer: PeerAddress,
    body: { sha256: string; size: number; stream: Readable },
    _options: CallOptions,
  ): Promise<void> {
    if (this.cut) throw new Error('ECONNREFUSED');
    if (this.bodyGate) await this.bodyGate;
    this.bodiesSent.push(body.sha256);
    const chunks: Buffer[] = [];
    for await (const c of body.stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    // As HTTP's content-length would: a size that is not the body's fails the request.
    if (bytes.length !== body.size) throw new Error(`sent ${bytes.length} bytes as ${body.size}`);
    await this.receiver.bodies.write(Readable.from([bytes]), { expectSha256: body.sha256 });
    this.receiver.applier.bodyArrived(body.sha256);
  }

  async hasBody(_peer: PeerAddress, sha256: string): Promise<boolean> {
    if (this.cut) throw new Error('ECONNREFUSED');
    return this.receiver.bodies.bodies.has(sha256);
  }

  async position(_peer: PeerAddress, origin: string): Promise<LogPosition> {
    if (this.cut) throw new Error('ECONNREFUSED');
    const row = this.receiver.store.progress(origin);
    return { logId: row.logId, seq: row.seq };
  }

  async drainStatus(): Promise<DrainStatus> {
    throw new Error('not used');
  }
}
