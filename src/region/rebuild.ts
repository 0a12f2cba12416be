/**
 * @module Rebuilding a region from a peer's snapshot (DESIGN §5): for a region with an
 * empty data directory while a peer holds data, one a peer can no longer bring up to
 * date from its log (`needs-rebuild`), or one started with `mraa region --rebuild`.
 *
 * Into `<data>/<name>.rebuild/`, step by step, each step recorded in `rebuild.json` so
 * that a rebuild cut at any point resumes where it was:
 *
 * 1. snapshot: the source (the writer if it answers, else the peer with the longest
 *    log) makes a consistent SQLite snapshot (src/adapters/sqlite/snapshot.ts); its
 *    manifest comes in a signed answer; the file is streamed to `snapshot.db.part`
 *    (resumed with a Range request), and its size and SHA-256 checked against the
 *    manifest. A snapshot the source no longer has is asked for again.
 * 2. bodies: every body the snapshot's object versions refer to goes to `blobs/`,
 *    checked by its SHA-256: kept if already there (a resumed rebuild), linked from the
 *    old data directory if it is there and hashes right, else streamed from the source.
 * 3. finalize: the snapshot becomes this region's database
 *    (src/adapters/sqlite/rebuilt-database.ts): it follows every origin from the
 *    snapshot's positions, the source's own log from its head at the snapshot moment,
 *    and starts a new log id of its own.
 * 4. swap: the old data directory, if it holds anything but the voter's state, is moved
 *    aside to `<name>.before-rebuild-<time>` (never deleted); the voter's folder is
 *    moved into the new one (the control plane's promises are this region's, never the
 *    peer's); `<name>.rebuild` becomes `<name>`.
 */

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { BlobFiles, fsyncDirectory } from '../adapters/disk/blob-files.js';
import { openDatabase } from '../adapters/sqlite/database.js';
import {
  prepareRebuiltDatabase,
  type RebuiltFrom,
  rebuiltFrom,
  snapshotBodies,
} from '../adapters/sqlite/rebuilt-database.js';
import { type LoadedConfig, peerUrl } from '../config/config.js';
import { replicationKeys } from '../peers/peer-auth.js';
import { PeerClient, PeerRequestError } from '../peers/peer-client.js';
import { PeerDownloads } from '../peers/peer-download.js';
import {
  SNAPSHOT_BODY_PATH,
  SNAPSHOT_PATH,
  SNAPSHOT_SOURCE_PATH,
  type SnapshotManifest,
  type SnapshotSourceInfo,
} from '../ports/snapshot.js';
import { formatSize } from '../replication/link-state.js';
import { TABLES } from './tables.js';

/** Object bodies fetched at once. */
export const BODY_STREAMS = 4;
/** At most one progress line this often. */
export const PROGRESS_EVERY_MS = 2000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** Failures in a row reaching the snapshot's source before another source is looked for. */
const SOURCE_FAILURES_BEFORE_SWITCH = 5;
/** Snapshots asked for again because the source lacked a body, before the rebuild gives up. */
const MAX_MISSING_BODY_RETRIES = 3;

export interface RebuildPaths {
  /** The region's data directory. */
  live: string;
  /** Where the rebuild is prepared. */
  work: string;
  state: string;
}

export function rebuildPaths(config: LoadedConfig, region: string): RebuildPaths {
  const live = join(config.dataRoot, region);
  const work = `${live}.rebuild`;
  return { live, work, state: join(work, 'rebuild.json') };
}

type Phase = 'snapshot' | 'bodies' | 'finalize' | 'swap';

export interface RebuildState {
  startedAt: string;
  reason: string;
  phase: Phase;
  /** The snapshot being fetched, and the URL of the region that made it. */
  snapshot?: SnapshotManifest & { url: string };
  /** Where the old data directory goes (chosen before it is moved). */
  aside?: string;
}

export interface RebuildResult {
  source: string;
  snapshotId: string;
  snapshotBytes: number;
  bodies: { total: number; bytes: number; alreadyHere: number; linked: number; fetched: number; fetchedBytes: number };
  ms: number;
  /** Where the old data directory was moved (undefined: there was none). */
  aside: string | undefined;
  rebuilt: RebuiltFrom;
}

export class RebuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildError';
  }
}

/** The snapshot (or a body it names) is gone from its source: ask for a new one. */
class SnapshotGoneError extends Error {}

/** A rebuild that was started and not finished (it resumes at the next start). */
export async function rebuildInProgress(paths: RebuildPaths): Promise<RebuildState | undefined> {
  try {
    return JSON.parse(await readFile(paths.state, 'utf8')) as RebuildState;
  } catch {
    return existsSync(paths.work)
      ? { startedAt: new Date().toISOString(), reason: 'resumed', phase: 'snapshot' }
      : undefined;
  }
}

/** No database in the data directory (a voter's folder alone does not count). */
export function isEmptyDataDir(paths: RebuildPaths): boolean {
  return !existsSync(join(paths.live, 'region.db'));
}

interface RebuildDeps {
  config: LoadedConfig;
  region: string;
  logger: Logger;
  client?: PeerClient;
  downloads?: PeerDownloads;
}

/**
 * What each peer says of itself as a snapshot source, within `timeoutMs`, asked once
 * (a peer that does not answer is left out).
 */
export async function askSources(deps: RebuildDeps, timeoutMs: number): Promise<SnapshotSourceInfo[]> {
  const client = deps.client ?? new PeerClient(replicationKeys(deps.config.secrets), deps.region);
  const answers = await Promise.all(
    deps.config.regions
      .filter((r) => r.name !== deps.region)
      .map((r) =>
        client
          .call<SnapshotSourceInfo>(peerUrl(r), 'GET', SNAPSHOT_SOURCE_PATH, undefined, { timeoutMs })
          .catch(() => undefined),
      ),
  );
  return answers.filter((a): a is SnapshotSourceInfo => a !== undefined);
}

/** The best source among those with data: the one named, else the writer, else the longest log. */
export function chooseSource(sources: readonly SnapshotSourceInfo[], from?: string): SnapshotSourceInfo | undefined {
  const withData = sources.filter((s) => s.hasData);
  if (from) return withData.find((s) => s.region === from);
  return [...withData].sort((a, b) => Number(b.writer) - Number(a.writer) || b.head - a.head)[0];
}

export async function rebuildRegion(
  options: RebuildDeps & {
    reason: string;
    /** Take the snapshot from this region. */
    from?: string;
    signal?: AbortSignal;
    now?: () => number;
  },
): Promise<RebuildResult> {
  const { config, region, logger } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const paths = rebuildPaths(config, region);
  const client = options.client ?? new PeerClient(replicationKeys(config.secrets), region);
  const downloads = options.downloads ?? new PeerDownloads(replicationKeys(config.secrets), region);
  await mkdir(paths.work, { recursive: true, mode: 0o700 });
  const saved = existsSync(paths.state) ? await rebuildInProgress(paths) : undefined;
  let state: RebuildState = saved ?? {
    startedAt: new Date(started).toISOString(),
    reason: options.reason,
    phase: 'snapshot',
  };
  if (saved) {
    logger.warn(
      { phase: state.phase, startedAt: state.startedAt, source: state.snapshot?.source },
      `rebuild: resuming the rebuild started at ${state.startedAt} (${state.reason}), at its ${state.phase} step`,
    );
  } else {
    logger.warn({ reason: options.reason }, `rebuild: rebuilding ${region} from a peer's snapshot (${options.reason})`);
  }
  await saveState(paths, state);

  let bodies: RebuildResult['bodies'] | undefined;
  let rebuilt: RebuiltFrom | undefined;
  let aside: string | undefined;
  let failures = 0;
  let missingBodies = 0;
  let backoff = BACKOFF_MIN_MS;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      if (state.phase === 'snapshot') {
        if (!state.snapshot) {
          const sources = await askSources({ ...options, client }, 3000);
          const source = chooseSource(sources, options.from);
          if (!source) {
            throw new RebuildError(
              options.from
                ? `${options.from} does not answer, or holds no data: cannot take a snapshot from it`
                : `no peer with data answers (asked ${config.regions
                    .filter((r) => r.name !== region)
                    .map((r) => r.name)
                    .join(', ')})`,
            );
          }
          if (!sources.some((s) => s.writer))
            logger.warn(
              'rebuild: no peer that answers is the writer: writes only the writer holds are not in the snapshot',
            );
          const url = peerUrl(config.regions.find((r) => r.name === source.region)!);
          const manifest = await client.call<SnapshotManifest>(url, 'POST', SNAPSHOT_PATH, {}, { timeoutMs: 600_000 });
          if (manifest.forPeer !== region || manifest.source !== source.region)
            throw new RebuildError(`${source.region} answered with a snapshot made for ${manifest.forPeer}`);
          await rm(join(paths.work, 'snapshot.db.part'), { force: true });
          await rm(join(paths.work, 'snapshot.db'), { force: true });
          state = { ...state, snapshot: { ...manifest, url } };
          await saveState(paths, state);
          logger.info(
            { source: manifest.source, snapshot: manifest.id, bytes: manifest.size, bodies: manifest.bodies },
            `rebuild: ${manifest.source} made snapshot ${manifest.id}: ${formatSize(manifest.size)}, ` +
              `${manifest.bodies} bodies of ${formatSize(manifest.bodyBytes)}, its log up to ${manifest.head}`,
          );
        }
        await downloadSnapshot(paths, state.snapshot!, downloads, logger, options.signal);
        state = { ...state, phase: 'bodies' };
        await saveState(paths, state);
      }
      if (state.phase === 'bodies') {
        bodies = await fetchBodies(paths, state.snapshot!, downloads, logger, options.signal);
        state = { ...state, phase: 'finalize' };
        await saveState(paths, state);
      }
      if (state.phase === 'finalize') {
        rebuilt = await finalize(paths, region, state.snapshot!);
        state = { ...state, phase: 'swap' };
        await saveState(paths, state);
      }
      aside = await swap(paths, state, now);
      break;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (err instanceof SnapshotGoneError) {
        if (++missingBodies > MAX_MISSING_BODY_RETRIES)
          throw new RebuildError(`${err.message}; asked for a new snapshot ${MAX_MISSING_BODY_RETRIES} times`);
        logger.warn({ err: err.message }, 'rebuild: asking for a new snapshot (the bodies fetched so far are kept)');
        state = { ...state, phase: 'snapshot' };
        delete state.snapshot;
        await saveState(paths, state);
        continue;
      }
      failures++;
      logger.warn(
        { err: (err as Error).message, attempt: failures, retryInMs: backoff },
        `rebuild: ${(err as Error).message}; trying again`,
      );
      if (
        (state.phase === 'snapshot' || state.phase === 'bodies') &&
        state.snapshot &&
        failures % SOURCE_FAILURES_BEFORE_SWITCH === 0
      ) {
        // Its source has not answered for a while: start again from a source that answers
        // (maybe the same); the bodies fetched so far are kept.
        logger.warn({ source: state.snapshot.source }, 'rebuild: looking for a snapshot source again');
        state = { ...state, phase: 'snapshot' };
        delete state.snapshot;
        await saveState(paths, state);
      }
      await sleep(backoff, options.signal);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }
  const snap = state.snapshot!;
  const result: RebuildResult = {
    source: snap.source,
    snapshotId: snap.id,
    snapshotBytes: snap.size,
    bodies: bodies ?? {
      total: snap.bodies,
      bytes: snap.bodyBytes,
      alreadyHere: 0,
      linked: 0,
      fetched: 0,
      fetchedBytes: 0,
    },
    ms: now() - started,
    aside,
    rebuilt: rebuilt ?? (await readRebuilt(paths.live)),
  };
  logger.warn(
    { ...result, rebuilt: undefined, newLogId: result.rebuilt.newLogId },
    `rebuild: done in ${(result.ms / 1000).toFixed(1)} s from ${result.source}: snapshot ${formatSize(result.snapshotBytes)}, ` +
      `${result.bodies.total} bodies (${formatSize(result.bodies.bytes)}: ${result.bodies.fetched} fetched, ` +
      `${result.bodies.linked} from the old data directory, ${result.bodies.alreadyHere} already here); follows ` +
      `${result.source}'s log from ${result.rebuilt.head}; new log id ${result.rebuilt.newLogId.slice(0, 8)}` +
      (aside ? `; the old data directory is kept at ${aside}` : ''),
  );
  return result;
}

async function saveState(paths: RebuildPaths, state: RebuildState): Promise<void> {
  const tmp = `${paths.state}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, paths.state);
  await fsyncDirectory(paths.work);
}

/** Progress lines, at most one every PROGRESS_EVERY_MS. */
class Progress {
  private last = 0;
  private readonly started = Date.now();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  report(done: number, total: number, extra = '', force = false): void {
    const now = Date.now();
    if (!force && now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    this.logger.info(
      { done, total },
      `rebuild: ${this.what} ${formatSize(done)} of ${formatSize(total)} (${pct} %)${extra}, ${formatSize(done / secs)}/s`,
    );
  }
}

async function downloadSnapshot(
  paths: RebuildPaths,
  snap: SnapshotManifest & { url: string },
  downloads: PeerDownloads,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<void> {
  const done = join(paths.work, 'snapshot.db');
  if (existsSync(done)) return;
  const part = join(paths.work, 'snapshot.db.part');
  let have = await stat(part).then(
    (s) => s.size,
    () => 0,
  );
  if (have > snap.size) {
    await truncate(part, 0);
    have = 0;
  }
  let hash = createHash('sha256');
  if (have > 0) await pipeline(createReadStream(part, { end: have - 1 }), hashInto(hash));
  let dl: Awaited<ReturnType<PeerDownloads['open']>>;
  try {
    dl = await downloads.open(snap.url, `${SNAPSHOT_PATH}/${snap.id}`, { start: have, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof PeerRequestError && err.status === 404)
      throw new SnapshotGoneError(`${snap.source} no longer has snapshot ${snap.id}`);
    throw err;
  }
  if (dl.start !== have) {
    // The source sends it from the start after all: start again.
    await truncate(part, 0).catch(() => undefined);
    have = 0;
    hash = createHash('sha256');
  }
  if (have > 0) logger.info({ have }, `rebuild: resuming the snapshot's download at ${formatSize(have)}`);
  const progress = new Progress(logger, `snapshot from ${snap.source}:`);
  let got = have;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      got += chunk.length;
      if (got > snap.size) return cb(new Error(`the snapshot is longer than its manifest's ${snap.size} bytes`));
      hash.update(chunk);
      progress.report(got, snap.size);
      cb(null, chunk);
    },
  });
  await pipeline(dl.body, meter, createWriteStream(part, { flags: have > 0 ? 'a' : 'w', mode: 0o600, flush: true }));
  if (got !== snap.size) throw new Error(`the snapshot's download ended at ${got} of ${snap.size} bytes`);
  const digest = hash.digest('hex');
  if (digest !== snap.sha256) {
    await rm(part, { force: true });
    throw new Error(`the snapshot's SHA-256 is ${digest}, its manifest says ${snap.sha256}: fetching it again`);
  }
  progress.report(got, snap.size, ', checksum verified', true);
  await rename(part, done);
  await fsyncDirectory(paths.work);
}

function hashInto(hash: ReturnType<typeof createHash>) {
  return async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  };
}

async function fetchBodies(
  paths: RebuildPaths,
  snap: SnapshotManifest & { url: string },
  downloads: PeerDownloads,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<RebuildResult['bodies']> {
  const list = snapshotBodies(join(paths.work, 'snapshot.db'));
  const blobs = new BlobFiles(join(paths.work, 'blobs'));
  await blobs.init();
  const old = existsSync(join(paths.live, 'blobs')) ? new BlobFiles(join(paths.live, 'blobs')) : undefined;
  const total = list.reduce((n, b) => n + b.size, 0);
  const out = { total: list.length, bytes: total, alreadyHere: 0, linked: 0, fetched: 0, fetchedBytes: 0 };
  let doneBytes = 0;
  const progress = new Progress(logger, 'bodies');
  const line = () => `, ${out.alreadyHere + out.linked + out.fetched} of ${list.length} bodies`;
  logger.info(
    { bodies: list.length, bytes: total },
    `rebuild: ${list.length} bodies of ${formatSize(total)} to hold (checked by their SHA-256)`,
  );
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    // The first failure stops every worker from taking more; those in flight finish (and are kept).
    while (next < list.length && !failed) {
      const body = list[next++]!;
      try {
        signal?.throwIfAborted();
        if (await blobs.exists(body.sha256)) out.alreadyHere++;
        else if (old && (await linkVerified(old, blobs, body.sha256))) out.linked++;
        else {
          await fetchBody(blobs, snap, downloads, body.sha256, signal);
          out.fetched++;
          out.fetchedBytes += body.size;
        }
      } catch (err) {
        failed ??= { err };
        return;
      }
      doneBytes += body.size;
      progress.report(doneBytes, total, line());
    }
  };
  await Promise.all(Array.from({ length: Math.min(BODY_STREAMS, list.length) }, worker));
  if (failed) throw failed.err;
  progress.report(doneBytes, total, line(), true);
  return out;
}

/** A body of the old data directory, if it hashes to its name: linked (same file system) or copied. */
async function linkVerified(old: BlobFiles, blobs: BlobFiles, sha256: string): Promise<boolean> {
  if (!(await old.exists(sha256))) return false;
  const from = old.pathOf(sha256);
  const hash = createHash('sha256');
  await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), hashInto(hash));
  if (hash.digest('hex') !== sha256) return false;
  const to = blobs.pathOf(sha256);
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  try {
    await link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return true;
    if (code !== 'EXDEV' && code !== 'EPERM') throw err;
    const written = await blobs.write(createReadStream(from), { expectSha256: sha256 });
    blobs.release(written.sha256);
    return true;
  }
  await fsyncDirectory(dirname(to));
  return true;
}

async function fetchBody(
  blobs: BlobFiles,
  snap: SnapshotManifest & { url: string },
  downloads: PeerDownloads,
  sha256: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  let dl: Awaited<ReturnType<PeerDownloads['open']>>;
  try {
    dl = await downloads.open(snap.url, `${SNAPSHOT_BODY_PATH}${sha256}`, signal ? { signal } : {});
  } catch (err) {
    if (err instanceof PeerRequestError && err.status === 404)
      throw new SnapshotGoneError(`${snap.source} no longer has body ${sha256} its snapshot refers to`);
    throw err;
  }
  // Hashed while written; a body that does not hash to its name is discarded and the write fails.
  const written = await blobs.write(dl.body, { expectSha256: sha256 });
  blobs.release(written.sha256);
}

async function finalize(
  paths: RebuildPaths,
  region: string,
  snap: SnapshotManifest & { url: string },
): Promise<RebuiltFrom> {
  const file = join(paths.work, 'region.db');
  const downloaded = join(paths.work, 'snapshot.db');
  if (existsSync(downloaded)) {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) await rm(f, { force: true });
    await rename(downloaded, file);
  }
  const db = openDatabase(file);
  try {
    const rebuilt = prepareRebuiltDatabase(db, {
      self: region,
      source: snap.source,
      snapshotId: snap.id,
      localTables: TABLES.filter((t) => t.local).map((t) => t.name),
    });
    db.pragma('wal_checkpoint(TRUNCATE)');
    return rebuilt;
  } finally {
    db.close();
    const fh = await open(file, 'r');
    await fh.sync().finally(() => fh.close());
    await fsyncDirectory(paths.work);
  }
}

async function readRebuilt(dir: string): Promise<RebuiltFrom> {
  const db = openDatabase(join(dir, 'region.db'));
  try {
    return rebuiltFrom(db)!;
  } finally {
    db.close();
  }
}

/** Old data directory aside (kept), the voter's folder into the new one, the new one in place. */
async function swap(paths: RebuildPaths, state: RebuildState, now: () => number): Promise<string | undefined> {
  const dataRoot = dirname(paths.live);
  if (state.aside === undefined && existsSync(paths.live)) {
    const entries = (await readdir(paths.live)).filter((e) => e !== 'voter');
    if (entries.length > 0) {
      state.aside = `${paths.live}.before-rebuild-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
      await saveState(paths, state);
    }
  }
  if (state.aside && existsSync(paths.live) && !existsSync(state.aside)) {
    await rename(paths.live, state.aside);
    await fsyncDirectory(dataRoot);
  }
  const voter = join(state.aside ?? paths.live, 'voter');
  if (existsSync(voter) && !existsSync(join(paths.work, 'voter'))) {
    await rename(voter, join(paths.work, 'voter'));
    await fsyncDirectory(paths.work);
  }
  if (!state.aside && existsSync(paths.live)) await rmdir(paths.live);
  await rm(join(paths.work, 'snapshot.db.part'), { force: true });
  await rename(paths.work, paths.live);
  await fsyncDirectory(dataRoot);
  await rm(join(paths.live, 'rebuild.json'), { force: true });
  return state.aside;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}

/** A rebuild cut between its last two steps leaves its record in the new data directory. */
export async function removeLeftoverState(paths: RebuildPaths): Promise<void> {
  await rm(join(paths.live, 'rebuild.json'), { force: true });
  await rm(join(paths.live, 'rebuild.json.tmp'), { force: true });
}
