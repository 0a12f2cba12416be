import { describe, expect, it } from 'vitest';
import { planRepair, type VersionRef } from './repair.js';

const v = (epoch: number, ms: number, region = 'a'): VersionRef['version'] => ({
  epoch,
  hlc: `${String(ms).padStart(15, '0')}-000000`,
  region,
});
const item = (version: VersionRef['version'], deleted = false): VersionRef => ({ versionId: null, version, deleted });

describe('planRepair', () => {
  it('ships the newest item version to the regions that lack it or hold an older one, from the writer when it can', () => {
    const plan = planRepair(
      'table',
      {
        a: { k1: [item(v(1, 10))], k2: [item(v(1, 20))], k3: [item(v(2, 5), true)] },
        b: { k1: [], k2: [item(v(1, 30, 'b'))], k3: [item(v(2, 5), true)] },
        c: { k1: [item(v(1, 10))], k2: [item(v(1, 10))], k3: [item(v(1, 99))] },
      },
      ['k1', 'k2', 'k3'],
      'c',
    );
    expect(plan.reships).toEqual([
      { key: 'k1', versionId: null, version: v(1, 10), deleted: false, from: 'c', to: ['b'] },
      { key: 'k2', versionId: null, version: v(1, 30, 'b'), deleted: false, from: 'b', to: ['a', 'c'] },
      { key: 'k3', versionId: null, version: v(2, 5), deleted: true, from: 'a', to: ['c'] },
    ]);
    expect(plan.unrepairable).toEqual([]);
  });

  it('ships every object version a region lacks; the same versions everywhere cannot be mended', () => {
    const ov = (id: string, ms: number): VersionRef => ({ versionId: id, version: v(1, ms), deleted: false });
    const plan = planRepair(
      'bucket',
      { a: { o: [ov('v2', 2), ov('v1', 1)], p: [ov('x', 1)] }, b: { o: [ov('v1', 1)], p: [ov('x', 1)] } },
      ['o', 'p'],
      'a',
    );
    expect(plan.reships).toEqual([
      { key: 'o', versionId: 'v2', version: v(1, 2), deleted: false, from: 'a', to: ['b'] },
    ]);
    expect(plan.unrepairable).toEqual([{ key: 'p', why: expect.stringMatching(/same versions/) }]);
  });

  it('says when every region holds the same item version with different contents', () => {
    const plan = planRepair('table', { a: { k: [item(v(1, 1))] }, b: { k: [item(v(1, 1))] } }, ['k'], 'a');
    expect(plan.reships).toEqual([]);
    expect(plan.unrepairable).toHaveLength(1);
  });
});
