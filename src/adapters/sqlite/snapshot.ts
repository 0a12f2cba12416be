/**
 * @module Snapshots of the region database (src/ports/snapshot.ts): `VACUUM INTO` a
 * file under `<data>/snapshots/`, run by a worker thread on a connection of its own, so
 * the copy is one read transaction (tables, object metadata, the log's identity and
 * head, the progress per origin agree) and the region's event loop never waits for it.
 * The worker also reads the copy's log position and the bodies it names, and hashes it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SnapshotManifest, Snapshots } from '../../ports/snapshot.js';
import type { Db } from './database.js';
import { sqliteDriver, WORKER_SQLITE } from './driver.js';

/** A snapshot is removed once a newer one is made for the same peer, or after this long. */
export const SNAPSHOT_KEEP_MS = 24 * 3600_000;
export const SNAPSHOT_ID = /^[0-9]{13}-[0-9a-f]{12}$/;

const WORKER = `${WORKER_SQLITE}
const { workerData, parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
let src, copy;
try {
  src = openSqlite(workerData.driver, workerData.file, { fileMustExist: true });
  src.exec('PRAGMA busy_timeout = 10000');
  src.run('VACUUM INTO ?', workerData.target);
  src.close();
  src = undefined;
  copy = openSqlite(workerData.driver, workerData.target, { readonly: true, fileMustExist: true });
  const seg = copy.get('SELECT log_id FROM log_segments ORDER BY rowid DESC LIMIT 1');
  const head = copy.get("SELECT CAST(v AS INTEGER) AS head FROM meta WHERE k = 'log_head'");
  const bodies = copy.get(
    'SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM (SELECT sha256, MAX(size) AS size FROM object_versions WHERE sha256 IS NOT NULL GROUP BY sha256)',
  );
  copy.close();
  copy = undefined;
  const hash = createHash('sha256');
  const fd = fs.openSync(workerData.target, 'r');
  const buf = Buffer.alloc(1024 * 1024);
  let size = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    size += n;
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  parentPort.postMessage({
    ok: true,
    logId: seg ? seg.log_id : '',
    head: head && head.head !== null ? head.head : 0,
    bodies: bodies.n,
    bodyBytes: bodies.bytes,
    size,
    sha256: hash.digest('hex'),
  });
} catch (err) {
  try { src && src.close(); } catch {}
  try { copy && copy.close(); } catch {}
  parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
}
`;

interface WorkerAnswer {
  ok: boolean;
  error?: string;
  logId: string;
  head: number;
  bodies: number;
  bodyBytes: number;
  size: number;
  sha256: string;
}

export class SqliteSnapshots implements Snapshots {
  private readonly dir: string;
  private readonly known = new Map<string, SnapshotManifest>();
  private readonly hasDataStmt;

  constructor(
    private readonly deps: {
      db: Db;
      /** The database file (a second connection opens it). */
      file: string;
      /** The region's data directory: snapshots go under `snapshots/` in it. */
      dataDir: string;
      region: string;
      localTables: readonly string[];
      now?: () => number;
    },
  ) {
    this.dir = join(deps.dataDir, 'snapshots');
    const local = deps.localTables.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ') || "''";
    this.hasDataStmt = deps.db.prepare(
      `SELECT EXISTS (SELECT 1 FROM items WHERE tbl NOT IN (${local}))
           OR EXISTS (SELECT 1 FROM object_versions)
           OR COALESCE((SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'log_head'), 0) > 0 AS has`,
    );
    this.load();
  }

  hasData(): boolean {
    return (this.hasDataStmt.get() as { has: number }).has === 1;
  }

  find(id: string): { manifest: SnapshotManifest; file: string } | undefined {
    if (!SNAPSHOT_ID.test(id)) return undefined;
    const manifest = this.known.get(id);
    const file = join(this.dir, `${id}.db`);
    return manifest && existsSync(file) ? { manifest, file } : undefined;
  }

  async create(forPeer: string): Promise<SnapshotManifest> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const now = this.now();
    const id = `${String(now).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
    const target = join(this.dir, `${id}.db`);
    let answer: WorkerAnswer;
    try {
      answer = await runWorker({ file: this.deps.file, target });
      if (!answer.ok) throw new Error(`snapshot failed: ${answer.error}`);
      await chmod(target, 0o600);
    } catch (err) {
      await rm(target, { force: true });
      throw err;
    }
    const manifest: SnapshotManifest = {
      id,
      source: this.deps.region,
      forPeer,
      createdAt: new Date(now).toISOString(),
      size: answer.size,
      sha256: answer.sha256,
      logId: answer.logId,
      head: answer.head,
      bodies: answer.bodies,
      bodyBytes: answer.bodyBytes,
    };
    await writeFile(join(this.dir, `${id}.json`), JSON.stringify(manifest), { mode: 0o600 });
    // One snapshot per peer: the ones made for it before are no longer asked for.
    for (const [other, m] of this.known) if (m.forPeer === forPeer) await this.remove(other);
    this.known.set(id, manifest);
    await this.sweep();
    return manifest;
  }

  async sweep(): Promise<void> {
    const now = this.now();
    for (const [id, m] of this.known) if (now - Date.parse(m.createdAt) > SNAPSHOT_KEEP_MS) await this.remove(id);
  }

  private async remove(id: string): Promise<void> {
    this.known.delete(id);
    await rm(join(this.dir, `${id}.db`), { force: true });
    await rm(join(this.dir, `${id}.json`), { force: true });
  }

  /** The snapshots kept from before a restart; a file without its manifest (cut mid-copy) is removed. */
  private load(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const id = name.replace(/\.(db|json)$/, '');
      if (!SNAPSHOT_ID.test(id)) continue;
      if (name.endsWith('.json')) {
        try {
          this.known.set(id, JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as SnapshotManifest);
        } catch {
          /* torn: the pair is removed below */
        }
      }
    }
    for (const name of names) {
      const id = name.replace(/\.(db|json)$/, '');
      if (SNAPSHOT_ID.test(id) && !this.known.has(id)) void rm(join(this.dir, name), { force: true });
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function runWorker(data: { file: string; target: string }): Promise<WorkerAnswer> {
  const driver = sqliteDriver();
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { driver, ...data } });
    let answered = false;
    worker.once('message', (m: WorkerAnswer) => {
      answered = true;
      resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the snapshot worker exited (${code}) without an answer`));
    });
  });
}
