/**
 * @module Table store port: named tables of JSON items with global-table semantics
 * (DESIGN §4). The embedded adapter is src/adapters/sqlite/table-store.ts; an AWS
 * adapter (DynamoDB) implements the same interface and runs the same conformance
 * suite (test/conformance/table-store.case.ts).
 *
 * Contract:
 * - Items are JSON objects. The primary key is a string attribute named by the
 *   table definition; index attributes are strings too.
 * - Every write is stamped with a Version `{epoch, hlc, region}`. The stamp function
 *   is called inside the write's atomic scope, after any condition was checked; it
 *   may throw to refuse the write (that is how write admission is enforced), and
 *   then nothing is written. A write whose stamp does not beat the current version
 *   (a tombstone's included) is refused with DomainError `conflict` and writes nothing.
 * - `delete` writes a tombstone: `get` no longer returns the item, `getVersioned`
 *   and `scan` still see it, so the delete replicates and wins by version.
 *   Deleting an absent item writes nothing and returns undefined.
 * - A conditional write (`expected`) fails with DomainError `conflict` when the
 *   current version differs; `expected: null` means "must not exist" (a tombstone
 *   counts as not existing).
 * - Queries skip tombstones; pages end with `nextCursor: null`. Cursors are opaque.
 */
import type { Version } from '../core/version.js';

export type Item = Record<string, unknown>;

export interface IndexDefinition {
  /** Attribute whose value selects the items (e.g. photoId). */
  hash: string;
  /** Attribute the items are ordered by (e.g. createdAt); the key breaks ties. */
  sort?: string;
}

export interface TableDefinition {
  name: string;
  key: string;
  /** Kept in this region only: not logged, so neither replicated nor compared by `mraa verify`. */
  local?: boolean;
  indexes?: Record<string, IndexDefinition>;
}

export interface StoredItem<T extends Item = Item> {
  table: string;
  key: string;
  /** null for a tombstone. */
  item: T | null;
  version: Version;
}

export type Stamp = () => Version;

export interface WriteOptions {
  stamp: Stamp;
  /** Condition on the current version; null: the item must not exist. */
  expected?: Version | null;
}

export interface PageOptions {
  limit?: number;
  cursor?: string | null;
  order?: 'asc' | 'desc';
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface TableStore {
  get<T extends Item = Item>(table: string, key: string): Promise<T | undefined>;
  getVersioned<T extends Item = Item>(table: string, key: string): Promise<StoredItem<T> | undefined>;
  put<T extends Item>(table: string, item: T, options: WriteOptions): Promise<StoredItem<T>>;
  delete(table: string, key: string, options: WriteOptions): Promise<StoredItem | undefined>;
  query<T extends Item = Item>(table: string, index: string, value: string, options?: PageOptions): Promise<Page<T>>;
  /** Every item of a table in key order, tombstones included (for digests and repair). */
  scan(table: string, options?: PageOptions): Promise<Page<StoredItem>>;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
