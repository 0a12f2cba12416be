/**
 * @module `mraa verify --repair` (DESIGN §5): the versions each region holds of keys
 * that differ, which region holds the newest and which lack it (a pure plan), and the
 * re-shipping itself: the region holding the newest version logs it again, unchanged
 * (same version, same stamp), so normal replication carries it to every peer, where
 * last-writer-wins applies it wherever it is newer than what is there. Nothing is
 * stamped anew: a repair can only bring a region up to a version that already exists.
 */
import type { ItemChange, ObjectChange } from '../core/change.js';
import { compareVersions, type Version } from '../core/version.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import type { ObjectStore, ObjectVersion } from '../ports/object-store.js';
import type { ReplicaStore } from '../ports/replica-store.js';
import type { TableStore } from '../ports/table-store.js';

export const REPAIR_VERSIONS_PATH = '/internal/repair/versions';
export const REPAIR_RELOG_PATH = '/internal/repair/relog';
/** Keys asked about, or re-shipped, in one request. */
export const REPAIR_MAX_KEYS = 500;

export type RepairKind = 'table' | 'bucket';

/** One stored version of a key: an item (versionId null; `deleted` for a tombstone) or an object version. */
export interface VersionRef {
  versionId: string | null;
  version: Version;
  deleted: boolean;
}

export interface RelogRequest {
  kind: RepairKind;
  name: string;
  versions: Array<{ key: string; versionId: string | null; version: Version }>;
}

export interface RelogResult {
  region: string;
  relogged: Array<{ key: string; versionId: string | null; version: Version }>;
  /** Not logged again, and why (it changed since, it is not here, its body is missing here). */
  skipped: Array<{ key: string; versionId: string | null; why: string }>;
}

export interface RepairDeps {
  region: string;
  tables: Pick<TableStore, 'getVersioned'>;
  objects: Pick<ObjectStore, 'listVersions'>;
  bodies: Pick<ObjectBodies, 'exists'>;
  log: Pick<ChangeLog, 'append'>;
  store: Pick<ReplicaStore, 'transaction' | 'durable'>;
  /** Region-local tables: never replicated, never repaired. */
  localTables: readonly string[];
}

/** The versions this region holds of each key (an empty list: the key is not here). */
export async function versionsOf(
  deps: RepairDeps,
  kind: RepairKind,
  name: string,
  keys: readonly string[],
): Promise<Record<string, VersionRef[]>> {
  const out: Record<string, VersionRef[]> = {};
  for (const key of keys) {
    if (kind === 'table') {
      const stored = await deps.tables.getVersioned(name, key);
      out[key] = stored ? [{ versionId: null, version: stored.version, deleted: stored.item === null }] : [];
    } else {
      out[key] = (await objectVersions(deps, name, key)).map((v) => ({
        versionId: v.versionId,
        version: v.version,
        deleted: v.deleteMarker,
      }));
    }
  }
  return out;
}

/** Log the named versions again, as stored, in one transaction; durable before the answer. */
export async function relog(deps: RepairDeps, request: RelogRequest): Promise<RelogResult> {
  const { kind, name } = request;
  const result: RelogResult = { region: deps.region, relogged: [], skipped: [] };
  if (kind === 'table' && deps.localTables.includes(name)) {
    for (const v of request.versions)
      result.skipped.push({ key: v.key, versionId: v.versionId, why: `${name} is region-local` });
    return result;
  }
  const changes: Array<{ change: ItemChange | ObjectChange; bytes: number; ref: RelogRequest['versions'][number] }> =
    [];
  for (const want of request.versions) {
    const skip = (why: string) => result.skipped.push({ key: want.key, versionId: want.versionId, why });
    if (kind === 'table') {
      const stored = await deps.tables.getVersioned(name, want.key);
      if (!stored) skip('not here');
      else if (compareVersions(stored.version, want.version) !== 0)
        skip('a different version is stored here now (replication carries it)');
      else
        changes.push({
          change: { kind: 'item', table: name, key: want.key, item: stored.item, version: stored.version },
          bytes: 0,
          ref: want,
        });
      continue;
    }
    const stored = (await objectVersions(deps, name, want.key)).find((v) => v.versionId === want.versionId);
    if (!stored) skip('not here');
    else if (stored.sha256 !== null && !(await deps.bodies.exists(stored.sha256)))
      skip(`its body ${stored.sha256} is missing here`);
    else {
      const { isLatest: _latest, ...version } = stored;
      changes.push({ change: { kind: 'object', ...version }, bytes: stored.sha256 ? stored.size : 0, ref: want });
    }
  }
  if (changes.length > 0) {
    deps.store.transaction(() => {
      for (const c of changes) deps.log.append(c.change, c.bytes);
    });
    await deps.store.durable();
  }
  for (const c of changes) result.relogged.push(c.ref);
  return result;
}

async function objectVersions(
  deps: Pick<RepairDeps, 'objects'>,
  bucket: string,
  key: string,
): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await deps.objects.listVersions(bucket, { prefix: key, cursor, limit: 1000 });
    for (const v of page.items) if (v.key === key) out.push(v);
    // Keys come in order: once past `key`, nothing more of it follows.
    const last = page.items[page.items.length - 1];
    if (!page.nextCursor || (last && last.key > key)) return out;
    cursor = page.nextCursor;
  }
}

/** What the repair does for one key: ship `version` from `from` to the regions that lack it. */
export interface Reship {
  key: string;
  versionId: string | null;
  version: Version;
  deleted: boolean;
  from: string;
  to: string[];
}

export interface RepairPlan {
  reships: Reship[];
  /** Keys re-shipping cannot mend (the same version with different contents), with why. */
  unrepairable: Array<{ key: string; why: string }>;
}

/**
 * For each key: tables, the newest version (last-writer-wins) goes to every region that
 * lacks it or holds an older one; buckets, every version goes to every region that lacks
 * it (a bucket keeps every version). The version is shipped from the writer when it
 * holds it, else from the first region that does. Regions not in `perRegion` (down) are
 * neither sources nor targets.
 */
export function planRepair(
  kind: RepairKind,
  perRegion: Record<string, Record<string, VersionRef[]>>,
  keys: readonly string[],
  writer: string | undefined,
): RepairPlan {
  const regions = Object.keys(perRegion);
  const plan: RepairPlan = { reships: [], unrepairable: [] };
  const pick = (holders: string[]) => (writer && holders.includes(writer) ? writer : holders[0]!);
  for (const key of keys) {
    const of = (r: string) => perRegion[r]![key] ?? [];
    if (kind === 'table') {
      let newest: VersionRef | undefined;
      for (const r of regions)
        for (const v of of(r)) if (!newest || compareVersions(v.version, newest.version) > 0) newest = v;
      if (!newest) continue;
      const n = newest;
      const holders = regions.filter((r) => of(r).some((v) => compareVersions(v.version, n.version) === 0));
      const to = regions.filter((r) => !holders.includes(r));
      if (to.length === 0) {
        plan.unrepairable.push({
          key,
          why: 'every region holds the same version with different contents: re-shipping cannot mend it',
        });
        continue;
      }
      plan.reships.push({ key, versionId: null, version: n.version, deleted: n.deleted, from: pick(holders), to });
      continue;
    }
    const all = new Map<string, VersionRef>();
    for (const r of regions)
      for (const v of of(r)) if (v.versionId !== null && !all.has(v.versionId)) all.set(v.versionId, v);
    let any = false;
    for (const [versionId, v] of all) {
      const holders = regions.filter((r) => of(r).some((x) => x.versionId === versionId));
      const to = regions.filter((r) => !holders.includes(r));
      if (to.length === 0) continue;
      any = true;
      plan.reships.push({ key, versionId, version: v.version, deleted: v.deleted, from: pick(holders), to });
    }
    if (!any && all.size > 0)
      plan.unrepairable.push({
        key,
        why: 'every region holds the same versions with different contents: re-shipping cannot mend it',
      });
  }
  return plan;
}
