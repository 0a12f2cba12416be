import { describe, expect, it } from 'vitest';
import { compareDigests, compareKeys } from './verify.js';

describe('verify comparisons', () => {
  it('locates the table and bucket that differ', () => {
    const rows = compareDigests({
      a: {
        tables: { users: { items: 2, live: 2, digest: 'x' }, comments: { items: 5, live: 5, digest: 'c1' } },
        buckets: { photos: { versions: 1, digest: 'p' } },
      },
      b: {
        tables: { users: { items: 2, live: 2, digest: 'x' }, comments: { items: 4, live: 4, digest: 'c2' } },
        buckets: {},
      },
    });
    expect(rows.map((r) => [r.kind, r.name, r.same])).toEqual([
      ['table', 'comments', false],
      ['table', 'users', true],
      ['bucket', 'photos', false],
    ]);
    expect(rows[2]!.perRegion.b).toBeUndefined();
  });

  it('names the keys that are missing or different', () => {
    const diffs = compareKeys({ a: { k1: 'f1', k2: 'f2', k3: 'f3' }, b: { k1: 'f1', k2: 'zz' } });
    expect(diffs).toEqual([
      { key: 'k2', perRegion: { a: 'f2', b: 'zz' } },
      { key: 'k3', perRegion: { a: 'f3', b: null } },
    ]);
  });
});
