/**
 * @module The embedded table store: items as JSON rows in the region database, one
 * row per secondary-index entry, every write logged in the same transaction.
 */

import type { ItemChange } from '../../core/change.js';
import { DomainError } from '../../core/errors.js';
import type { Hlc } from '../../core/hlc.js';
import { assertKey } from '../../core/keys.js';
import { compareVersions, sameVersion, type Version } from '../../core/version.js';
import type {
  Item,
  Page,
  PageOptions,
  StoredItem,
  TableDefinition,
  TableStore,
  WriteOptions,
} from '../../ports/table-store.js';
import { decodeCursor, encodeCursor, pageSize } from './paging.js';
import type { Transactor, TxContext } from './transactor.js';

interface ItemRow {
  pk: string;
  data: string | null;
  epoch: number;
  hlc: string;
  region: string;
}

export interface ItemCommit {
  table: string;
  key: string;
  before: StoredItem | undefined;
  after: StoredItem;
  /** 'local' for a write accepted here, 'remote' for one applied from a peer. */
  origin: 'local' | 'remote';
}

/** Runs inside the transaction of every committed item change of its table. */
export type ItemHook = (commit: ItemCommit, tx: TxContext) => void;

/**
 * A local write that lost last-writer-wins to the version already stored (a newer one
 * replicated in, or a stamp from a clock gone back): refused with `conflict`, never
 * acknowledged, and told to the listeners (the region records it in its conflict log).
 * The shape of a conflict record: `origin` is the region whose write lost.
 */
export interface LocalLoser {
  kind: 'item' | 'object';
  /** Table or bucket. */
  name: string;
  key: string;
  origin: string;
  loser: unknown;
  winner: unknown;
}

export type LocalLoserListener = (loser: LocalLoser) => void;

/** The conflict a losing local write is refused with, carrying what lost to what. */
export class LocalWriteLostError extends DomainError {
  constructor(
    readonly lost: LocalLoser,
    message: string,
    current: Version,
  ) {
    super('conflict', message, { current });
  }
}

/**
 * Runs a local write (its own transaction) and, once that has rolled back, tells the
 * listeners about a write that lost; a listener that fails does not hide the conflict.
 */
export function reportingLosers<T>(listeners: readonly LocalLoserListener[], work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof LocalWriteLostError) {
      for (const listener of listeners) {
        try {
          listener(err.lost);
        } catch {
          // The write is refused either way; the record is best effort.
        }
      }
    }
    throw err;
  }
}

/** Matches a well-formed HLC in SQL (a malformed one left on disk must not seed the clock). */
export const HLC_GLOB = `${'[0-9]'.repeat(15)}-${'[0-9]'.repeat(6)}`;

export type RemoteOutcome =
  | { outcome: 'applied'; before: StoredItem | undefined }
  | { outcome: 'duplicate' }
  | { outcome: 'stale'; current: StoredItem };

export class SqliteTableStore implements TableStore {
  private readonly defs = new Map<string, TableDefinition>();
  private readonly hooks = new Map<string, ItemHook[]>();
  private readonly loserListeners: LocalLoserListener[] = [];
  private readonly stmts;

  constructor(
    private readonly tx: Transactor,
    definitions: readonly TableDefinition[],
  ) {
    for (const d of definitions) this.defs.set(d.name, d);
    const db = tx.db;
    this.stmts = {
      get: db.prepare('SELECT pk, data, epoch, hlc, region FROM items WHERE tbl = ? AND pk = ?'),
      upsert: db.prepare(
        `INSERT INTO items (tbl, pk, data, epoch, hlc, region) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tbl, pk) DO UPDATE SET data = excluded.data, epoch = excluded.epoch, hlc = excluded.hlc, region = excluded.region`,
      ),
      dropIndex: db.prepare('DELETE FROM item_index WHERE tbl = ? AND pk = ?'),
      addIndex: db.prepare('INSERT OR IGNORE INTO item_index (tbl, idx, hv, sv, pk) VALUES (?, ?, ?, ?, ?)'),
      queryAsc: db.prepare(
        `SELECT i.pk, i.data, i.epoch, i.hlc, i.region, x.sv FROM item_index x JOIN items i ON i.tbl = x.tbl AND i.pk = x.pk
         WHERE x.tbl = ? AND x.idx = ? AND x.hv = ? AND (x.sv, x.pk) > (?, ?) ORDER BY x.sv, x.pk LIMIT ?`,
      ),
      queryDesc: db.prepare(
        `SELECT i.pk, i.data, i.epoch, i.hlc, i.region, x.sv FROM item_index x JOIN items i ON i.tbl = x.tbl AND i.pk = x.pk
         WHERE x.tbl = ? AND x.idx = ? AND x.hv = ? AND (x.sv, x.pk) < (?, ?) ORDER BY x.sv DESC, x.pk DESC LIMIT ?`,
      ),
      scan: db.prepare('SELECT pk, data, epoch, hlc, region FROM items WHERE tbl = ? AND pk > ? ORDER BY pk LIMIT ?'),
      highestHlc: db.prepare(`SELECT MAX(hlc) AS hlc FROM items WHERE hlc GLOB '${HLC_GLOB}'`),
    };
  }

  definition(table: string): TableDefinition {
    const def = this.defs.get(table);
    if (!def) throw new DomainError('invalid_request', `unknown table "${table}"`);
    return def;
  }

  tables(): string[] {
    return [...this.defs.keys()];
  }

  /** Register a hook that runs inside the transaction of every change to `table`. */
  onCommit(table: string, hook: ItemHook): void {
    const list = this.hooks.get(table) ?? [];
    list.push(hook);
    this.hooks.set(table, list);
  }

  /** Told about every local write refused because it does not beat the stored version. */
  onLocalLoser(listener: LocalLoserListener): void {
    this.loserListeners.push(listener);
  }

  /** The highest HLC of any item or tombstone held here (seeds the clock at start). */
  highestHlc(): Hlc | undefined {
    return (this.stmts.highestHlc.get() as { hlc: string | null }).hlc ?? undefined;
  }

  async get<T extends Item = Item>(table: string, key: string): Promise<T | undefined> {
    return this.getSync<T>(table, key);
  }

  getSync<T extends Item = Item>(table: string, key: string): T | undefined {
    return (this.read(table, key)?.item ?? undefined) as T | undefined;
  }

  async getVersioned<T extends Item = Item>(table: string, key: string): Promise<StoredItem<T> | undefined> {
    return this.read(table, key) as StoredItem<T> | undefined;
  }

  async put<T extends Item>(table: string, item: T, options: WriteOptions): Promise<StoredItem<T>> {
    const def = this.definition(table);
    const key = item[def.key];
    if (typeof key !== 'string') throw new DomainError('invalid_request', `item has no string key "${def.key}"`);
    assertKey(key);
    const written = reportingLosers(this.loserListeners, () => this.write(table, key, item, options)) as StoredItem<T>;
    await this.tx.durable();
    return written;
  }

  async delete(table: string, key: string, options: WriteOptions): Promise<StoredItem | undefined> {
    this.definition(table);
    assertKey(key);
    const tombstone = reportingLosers(this.loserListeners, () =>
      this.tx.run(() => {
        const before = this.read(table, key);
        if (options.expected !== undefined) checkExpected(before, options.expected);
        if (!before || before.item === null) return undefined;
        return this.write(table, key, null, options);
      }),
    );
    if (tombstone) await this.tx.durable();
    return tombstone;
  }

  async query<T extends Item = Item>(
    table: string,
    index: string,
    value: string,
    options: PageOptions = {},
  ): Promise<Page<T>> {
    const def = this.definition(table);
    if (!def.indexes?.[index]) throw new DomainError('invalid_request', `table "${table}" has no index "${index}"`);
    const limit = pageSize(options.limit);
    const desc = options.order === 'desc';
    const [sv, pk] = options.cursor ? decodeCursor(options.cursor, 2) : desc ? ['\u{10FFFF}', '\u{10FFFF}'] : ['', ''];
    const stmt = desc ? this.stmts.queryDesc : this.stmts.queryAsc;
    const rows = stmt.all(table, index, value, sv, pk, limit + 1) as Array<ItemRow & { sv: string }>;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => JSON.parse(r.data!) as T),
      nextCursor: rows.length > limit && last ? encodeCursor([last.sv, last.pk]) : null,
    };
  }

  async scan(table: string, options: PageOptions = {}): Promise<Page<StoredItem>> {
    const limit = pageSize(options.limit);
    const [after] = options.cursor ? decodeCursor(options.cursor, 1) : [''];
    const rows = this.stmts.scan.all(table, after, limit + 1) as ItemRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => toStored(table, r)),
      nextCursor: rows.length > limit && last ? encodeCursor([last.pk]) : null,
    };
  }

  /**
   * Apply a change that a peer logged: last-writer-wins by version. Idempotent:
   * the same change applied twice is a duplicate. Runs in the caller's transaction.
   */
  applyRemote(change: ItemChange): RemoteOutcome {
    // A region-local table (an older peer may still log one) is never taken from a peer.
    if (this.defs.get(change.table)?.local) return { outcome: 'duplicate' };
    return this.tx.run((tx) => {
      const before = this.read(change.table, change.key);
      if (before) {
        const order = compareVersions(change.version, before.version);
        if (order === 0) return { outcome: 'duplicate' };
        if (order < 0) return { outcome: 'stale', current: before };
      }
      const after = this.store(change.table, change.key, change.item, change.version);
      this.runHooks({ table: change.table, key: change.key, before, after, origin: 'remote' }, tx);
      return { outcome: 'applied', before };
    });
  }

  private write(table: string, key: string, item: Item | null, options: WriteOptions): StoredItem {
    return this.tx.run((tx) => {
      const before = this.read(table, key);
      if (options.expected !== undefined) checkExpected(before, options.expected);
      const version = options.stamp();
      if (before && compareVersions(version, before.version) <= 0) {
        // Last-writer-wins, exactly as for a replicated write: a stamp that does not beat
        // the stored version (a newer one replicated in under a higher epoch, or a clock
        // gone back) is refused, never acknowledged, and recorded as a loser.
        throw new LocalWriteLostError(
          {
            kind: 'item',
            name: table,
            key,
            origin: version.region,
            loser: { kind: 'item', table, key, item, version } satisfies ItemChange,
            winner: before,
          },
          `a newer version of ${table}/${key} exists`,
          before.version,
        );
      }
      const after = this.store(table, key, item, version);
      if (!this.defs.get(table)?.local) this.tx.log.append({ kind: 'item', table, key, item, version });
      this.runHooks({ table, key, before, after, origin: 'local' }, tx);
      return after;
    });
  }

  private store(table: string, key: string, item: Item | null, version: Version): StoredItem {
    this.stmts.upsert.run(
      table,
      key,
      item === null ? null : JSON.stringify(item),
      version.epoch,
      version.hlc,
      version.region,
    );
    this.stmts.dropIndex.run(table, key);
    const def = this.defs.get(table);
    if (item !== null && def?.indexes) {
      for (const [name, idx] of Object.entries(def.indexes)) {
        const hv = item[idx.hash];
        if (typeof hv !== 'string') continue;
        const sv = idx.sort ? item[idx.sort] : '';
        this.stmts.addIndex.run(table, name, hv, typeof sv === 'string' ? sv : '', key);
      }
    }
    return { table, key, item, version };
  }

  private runHooks(commit: ItemCommit, tx: TxContext): void {
    for (const hook of this.hooks.get(commit.table) ?? []) hook(commit, tx);
  }

  private read(table: string, key: string): StoredItem | undefined {
    const row = this.stmts.get.get(table, key) as ItemRow | undefined;
    return row ? toStored(table, row) : undefined;
  }
}

function toStored(table: string, r: ItemRow): StoredItem {
  return {
    table,
    key: r.pk,
    item: r.data === null ? null : (JSON.parse(r.data) as Item),
    version: { epoch: r.epoch, hlc: r.hlc, region: r.region },
  };
}

function checkExpected(current: StoredItem | undefined, expected: Version | null): void {
  const live = current && current.item !== null ? current : undefined;
  if (expected === null) {
    if (live)
      throw new DomainError('conflict', `${current!.table}/${current!.key} already exists`, { current: live.version });
    return;
  }
  if (!live || !sameVersion(live.version, expected)) {
    throw new DomainError('conflict', 'the item changed since it was read', { current: live?.version ?? null });
  }
}
