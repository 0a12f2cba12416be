/**
 * Properties of last-writer-wins (DESIGN §5): `compareVersions` is a total order
 * (epoch, then HLC, then region), so the merge that keeps the greater of two versions
 * is commutative, associative and idempotent: regions that receive the same writes in
 * any order, any number of times, keep the same winner.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatHlc } from './hlc.js';
import { compareVersions, isVersion, sameVersion, type Version } from './version.js';

const versionArb: fc.Arbitrary<Version> = fc.record({
  epoch: fc.integer({ min: 0, max: 4 }),
  hlc: fc
    .record({
      wall: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_006 }),
      logical: fc.integer({ min: 0, max: 3 }),
    })
    .map(formatHlc),
  region: fc.constantFrom('ap-northeast-1', 'eu-west-1', 'us-east-1'),
});

/** A write: a version and what it wrote. One version names one write (its region and HLC are unique). */
interface Write {
  version: Version;
  value: string | null;
}

const writeOf = (version: Version): Write => ({
  version,
  value: version.epoch === 0 ? null : `${version.region}@${version.hlc}#${version.epoch}`,
});
const writeArb = versionArb.map(writeOf);

/** The merge every store applies: keep the write whose version is greater. */
const merge = (a: Write, b: Write): Write => (compareVersions(a.version, b.version) >= 0 ? a : b);
const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);

describe('last-writer-wins', () => {
  it('orders versions totally: reflexive, antisymmetric, transitive, equal only when the same', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        expect(isVersion(a)).toBe(true);
        expect(compareVersions(a, a)).toBe(0);
        expect(sign(compareVersions(a, b)) + sign(compareVersions(b, a))).toBe(0);
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0)
          expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
        expect(compareVersions(a, b) === 0).toBe(a.epoch === b.epoch && a.hlc === b.hlc && a.region === b.region);
        expect(sameVersion(a, b)).toBe(compareVersions(a, b) === 0);
        // Epoch first: a higher epoch wins whatever the clocks say.
        if (a.epoch > b.epoch) expect(compareVersions(a, b)).toBe(1);
      }),
      { numRuns: 5000 },
    );
  });

  it('merges commutatively, associatively and idempotently', () => {
    fc.assert(
      fc.property(writeArb, writeArb, writeArb, (a, b, c) => {
        expect(merge(a, b)).toEqual(merge(b, a));
        expect(merge(merge(a, b), c)).toEqual(merge(a, merge(b, c)));
        expect(merge(a, a)).toEqual(a);
        expect(merge(merge(a, b), b)).toEqual(merge(a, b));
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps the same winner for any order, grouping and repetition of the same writes', () => {
    const deliveries = fc
      .array(writeArb, { minLength: 1, maxLength: 12 })
      .chain((writes) =>
        fc.tuple(
          fc.constant(writes),
          fc.shuffledSubarray(writes, { minLength: writes.length }),
          fc.array(fc.constantFrom(...writes), { maxLength: 20 }),
          fc.nat(),
        ),
      );
    fc.assert(
      fc.property(deliveries, ([writes, permuted, repeats, cut]) => {
        const winner = writes.reduce(merge);
        // Any delivery: a permutation, with repetitions, folded whole or in two groups.
        const delivered = [...permuted, ...repeats];
        expect(delivered.reduce(merge)).toEqual(winner);
        const at = cut % delivered.length;
        const groups = [delivered.slice(0, at + 1), delivered.slice(at)];
        expect(merge(groups[0]!.reduce(merge), groups[1]!.reduce(merge))).toEqual(winner);
      }),
      { numRuns: 2000 },
    );
  });
});
