/**
 * @module The start-up check of a log's identity (DESIGN §5): before this region logs
 * anything, it asks each peer how far it has applied this region's log. A peer that
 * has applied more of the current log id than the log holds means this region lost
 * entries it had shipped (it was restored from a backup, or its unsynced tail was
 * lost): reusing those sequence numbers would make the peer skip new writes as
 * duplicates. Then, and when a peer cannot be asked (it might be such a peer), the
 * region starts a new log id; the sequence continues (src/ports/change-log.ts).
 */
import type { Logger } from 'pino';
import type { ChangeLog, LogSegment } from '../ports/change-log.js';
import type { LogPosition, PeerAddress, PeerTransport } from '../ports/peer-transport.js';
import { shortId } from './link-state.js';

/** How long a starting region keeps asking a peer that does not answer (it may be starting too). */
export const IDENTITY_WAIT_MS = 3000;
const RETRY_MS = 200;

export type IdentityOutcome =
  | { kind: 'kept'; logId: string }
  | { kind: 'new-log-id'; segment: LogSegment; previous: string; why: 'behind-peer' | 'unchecked'; message: string };

export async function settleLogIdentity(deps: {
  self: string;
  peers: readonly PeerAddress[];
  log: Pick<ChangeLog, 'segments' | 'durableHead' | 'startNewLogId'>;
  transport: Pick<PeerTransport, 'position'>;
  logger: Logger;
  waitMs?: number;
}): Promise<IdentityOutcome> {
  const { log, logger } = deps;
  const segs = log.segments();
  const current = segs[segs.length - 1]!;
  const head = log.durableHead();
  const deadline = Date.now() + (deps.waitMs ?? IDENTITY_WAIT_MS);
  const answers = await Promise.all(
    deps.peers.map(async (peer) => ({ peer: peer.name, position: await askUntil(deps, peer, deadline) })),
  );
  const ahead = answers.filter(
    (a) => a.position && (a.position.logId ?? segs[0]!.logId) === current.logId && a.position.seq > head,
  );
  const unchecked = answers.filter((a) => !a.position).map((a) => a.peer);
  if (ahead.length === 0 && unchecked.length === 0) return { kind: 'kept', logId: current.logId };
  const why = ahead.length > 0 ? 'behind-peer' : 'unchecked';
  const message =
    ahead.length > 0
      ? `this region's log ends at ${head}, but ${ahead.map((a) => `${a.peer} has applied up to ${a.position!.seq}`).join(' and ')} ` +
        `of log ${shortId(current.logId)} (restored from a backup, or an unsynced tail lost): started a new log id so no sequence is reused; ` +
        `what the peers hold beyond ${head} stays there`
      : `could not ask ${unchecked.join(', ')} how far it has applied this region's log: started a new log id so no sequence can be reused`;
  const segment = log.startNewLogId(why === 'behind-peer' ? `behind-peer: ${message}` : `unchecked: ${message}`);
  if (why === 'behind-peer')
    logger.warn({ logId: segment.logId, previous: current.logId, head }, `replication: ${message}`);
  else logger.info({ logId: segment.logId, previous: current.logId, head }, `replication: ${message}`);
  return { kind: 'new-log-id', segment, previous: current.logId, why, message };
}

async function askUntil(
  deps: { self: string; transport: Pick<PeerTransport, 'position'> },
  peer: PeerAddress,
  deadline: number,
): Promise<LogPosition | undefined> {
  for (;;) {
    try {
      return await deps.transport.position(peer, deps.self, { timeoutMs: Math.max(200, deadline - Date.now()) });
    } catch {
      if (Date.now() + RETRY_MS > deadline) return undefined;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
