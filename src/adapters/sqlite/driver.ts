/**
 * @module The one way this code opens SQLite. Node's own `node:sqlite` (DatabaseSync)
 * where the runtime has it unflagged (Node 22.13 and later, 24), better-sqlite3 12 only
 * where it does not (Node 20, 22 before 22.13). better-sqlite3 is loaded lazily, on that
 * path only: its version 12 aborts the process on Node 24.19 and later
 * (`Assertion failed: (env) != nullptr` in `Statement::~Statement()`), so Node 24 must
 * never load it.
 *
 * Both are exposed as the small surface the code uses (`Db`, `Statement`): better-sqlite3's
 * own object as it is, and node:sqlite behind an adapter that makes it behave the same:
 *
 * - `transaction(fn)` returns a function that runs `fn` in BEGIN … COMMIT (ROLLBACK if it
 *   throws); called inside a transaction, in a SAVEPOINT released on success and rolled
 *   back to on error (better-sqlite3's nesting);
 * - `undefined` binds as NULL (node:sqlite refuses it);
 * - `pragma(source, { simple })`: the rows of `PRAGMA source`, or the first column of the
 *   first row;
 * - `open`, `inTransaction`.
 *
 * Differences left visible: node:sqlite rows are plain objects with a null prototype, and
 * an integer beyond Number.MAX_SAFE_INTEGER throws there instead of losing precision.
 * Statements are finalized by the garbage collector or when the database closes, on both.
 *
 * Worker threads open their own connection with the same choice: `WORKER_SQLITE` is
 * JavaScript for an eval'd worker defining `openSqlite(driver, file, options)`, to be
 * given `sqliteDriver()` in its workerData.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

export type SqlValue = null | undefined | number | bigint | string | Uint8Array;

export interface RunResult {
  /** A number: neither driver is asked for BigInts. */
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: SqlValue[]): RunResult;
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  iterate(...params: SqlValue[]): IterableIterator<unknown>;
}

export interface Db {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  /** A function running `fn` in a transaction (a savepoint when called inside one). */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  /** `PRAGMA source`: its rows, or with `simple` the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

export interface OpenSqliteOptions {
  readonly?: boolean;
  /** Throw instead of creating the file. */
  fileMustExist?: boolean;
}

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** The parts of node:sqlite used here (its types are not in @types/node 20). */
interface NodeStatementSync {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate?(...params: unknown[]): IterableIterator<unknown>;
}
interface NodeDatabaseSync {
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
  readonly isOpen?: boolean;
  readonly isTransaction?: boolean;
}
interface NodeSqliteModule {
  DatabaseSync: new (file: string, options?: { readOnly?: boolean }) => NodeDatabaseSync;
}

let nodeSqlite: NodeSqliteModule | null | undefined;

function loadNodeSqlite(): NodeSqliteModule | null {
  if (nodeSqlite !== undefined) return nodeSqlite;
  nodeSqlite = null;
  try {
    // Undefined (or a throw) where the runtime has no unflagged node:sqlite.
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const mod = getBuiltin?.call(process, 'node:sqlite') as NodeSqliteModule | undefined;
    if (mod && typeof mod.DatabaseSync === 'function') nodeSqlite = mod;
  } catch {
    /* not available */
  }
  return nodeSqlite;
}

/** The driver this process uses: node:sqlite where the runtime has it, else better-sqlite3. */
export function sqliteDriverName(): SqliteDriverName {
  return loadNodeSqlite() ? 'node:sqlite' : 'better-sqlite3';
}

/** For a worker's `openSqlite`: 'node:sqlite', or the path better-sqlite3 is required from. */
export function sqliteDriver(): string {
  return loadNodeSqlite() ? 'node:sqlite' : createRequire(import.meta.url).resolve('better-sqlite3');
}

export function openSqlite(file: string, options: OpenSqliteOptions = {}): Db {
  const mod = loadNodeSqlite();
  if (!mod) {
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    return new Database(file, {
      readonly: options.readonly === true,
      fileMustExist: options.fileMustExist === true,
    }) as unknown as Db;
  }
  if (options.fileMustExist && file !== ':memory:' && !existsSync(file)) {
    throw new Error(`unable to open database file: ${file} does not exist`);
  }
  return new NodeSqliteDb(new mod.DatabaseSync(file, { readOnly: options.readonly === true }));
}

function bindable(params: SqlValue[]): unknown[] {
  return params.includes(undefined) ? params.map((p) => (p === undefined ? null : p)) : params;
}

class NodeSqliteStatement implements Statement {
  constructor(private readonly s: NodeStatementSync) {}

  run(...params: SqlValue[]): RunResult {
    return this.s.run(...bindable(params));
  }

  get(...params: SqlValue[]): unknown {
    return this.s.get(...bindable(params));
  }

  all(...params: SqlValue[]): unknown[] {
    return this.s.all(...bindable(params));
  }

  iterate(...params: SqlValue[]): IterableIterator<unknown> {
    // StatementSync.iterate exists from Node 22.13 / 23.4; before, the rows at once.
    return this.s.iterate ? this.s.iterate(...bindable(params)) : this.s.all(...bindable(params)).values();
  }
}

class NodeSqliteDb implements Db {
  /** Transactions begun through `transaction()` (for runtimes without `isTransaction`). */
  private depth = 0;
  private readonly control: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', string> = {
    begin: 'BEGIN',
    commit: 'COMMIT',
    rollback: 'ROLLBACK',
    savepoint: 'SAVEPOINT mraa_nested',
    release: 'RELEASE mraa_nested',
    rollbackTo: 'ROLLBACK TO mraa_nested',
  };
  private readonly statements = new Map<string, NodeStatementSync>();

  constructor(private readonly raw: NodeDatabaseSync) {}

  get open(): boolean {
    return this.raw.isOpen ?? true;
  }

  get inTransaction(): boolean {
    return this.raw.isTransaction ?? this.depth > 0;
  }

  prepare(sql: string): Statement {
    return new NodeSqliteStatement(this.raw.prepare(sql));
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const stmt = this.raw.prepare(`PRAGMA ${source}`);
    if (!options.simple) return stmt.all();
    const row = stmt.get() as Record<string, unknown> | undefined;
    return row === undefined ? undefined : Object.values(row)[0];
  }

  close(): void {
    this.statements.clear();
    this.raw.close();
  }

  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const nested = this.inTransaction;
      this.run(nested ? 'savepoint' : 'begin');
      this.depth++;
      try {
        const result = fn(...args);
        this.run(nested ? 'release' : 'commit');
        return result;
      } catch (err) {
        // A failed COMMIT (SQLITE_BUSY) leaves the transaction open: roll it back too.
        if (this.raw.isTransaction ?? true) {
          try {
            if (nested) {
              this.run('rollbackTo');
              this.run('release');
            } else {
              this.run('rollback');
            }
          } catch {
            /* SQLite rolled back already (an error that ends the transaction) */
          }
        }
        throw err;
      } finally {
        this.depth--;
      }
    };
  }

  /** The transaction-control statements, prepared once. */
  private run(which: keyof NodeSqliteDb['control']): void {
    const sql = this.control[which];
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      this.statements.set(sql, stmt);
    }
    stmt.run();
  }
}

/**
 * JavaScript for an eval'd worker (CommonJS): `openSqlite(driver, file, { readonly,
 * fileMustExist })` with `driver` from `sqliteDriver()`, returning `{ exec(sql),
 * run(sql, ...params), get(sql, ...params), close() }` on either driver.
 */
export const WORKER_SQLITE = `
function openSqlite(driver, file, options) {
  options = options || {};
  let db;
  if (driver === 'node:sqlite') {
    if (options.fileMustExist && !require('node:fs').existsSync(file)) {
      throw new Error('unable to open database file: ' + file + ' does not exist');
    }
    const { DatabaseSync } = require('node:sqlite');
    db = new DatabaseSync(file, { readOnly: !!options.readonly });
  } else {
    const Database = require(driver);
    db = new Database(file, { readonly: !!options.readonly, fileMustExist: !!options.fileMustExist });
  }
  return {
    exec: (sql) => { db.exec(sql); },
    run: (sql, ...params) => { db.prepare(sql).run(...params); },
    get: (sql, ...params) => db.prepare(sql).get(...params),
    close: () => db.close(),
  };
}
`;
