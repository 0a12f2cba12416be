import { describe, expect, it } from 'vitest';
import { formatHlc, HybridLogicalClock, parseHlc } from './hlc.js';
import { compareVersions } from './version.js';

describe('hybrid logical clock', () => {
  it('follows the wall clock when it moves forward', () => {
    let now = 1000;
    const clock = new HybridLogicalClock(() => now);
    expect(parseHlc(clock.tick())).toEqual({ wall: 1000, logical: 0 });
    now = 2000;
    expect(parseHlc(clock.tick())).toEqual({ wall: 2000, logical: 0 });
  });

  it('never goes backwards when the wall clock stalls or steps back', () => {
    let now = 5000;
    const clock = new HybridLogicalClock(() => now);
    const a = clock.tick();
    const b = clock.tick();
    now = 4000;
    const c = clock.tick();
    expect(a < b && b < c).toBe(true);
    expect(parseHlc(c)).toEqual({ wall: 5000, logical: 2 });
  });

  it('orders local events after a timestamp observed from a clock ahead', () => {
    const now = 1000;
    const clock = new HybridLogicalClock(() => now);
    const remote = formatHlc({ wall: 9000, logical: 7 });
    clock.observe(remote);
    const next = clock.tick();
    expect(next > remote).toBe(true);
    expect(parseHlc(next)).toEqual({ wall: 9000, logical: 9 });
  });

  it('serialises so that string order is time order', () => {
    expect(formatHlc({ wall: 999, logical: 999999 }) < formatHlc({ wall: 1000, logical: 0 })).toBe(true);
    expect(() => parseHlc('nonsense')).toThrow();
  });

  it('orders versions by epoch first, then hlc, then region', () => {
    const h1 = formatHlc({ wall: 1, logical: 0 });
    const h2 = formatHlc({ wall: 2, logical: 0 });
    expect(compareVersions({ epoch: 2, hlc: h1, region: 'a' }, { epoch: 1, hlc: h2, region: 'z' })).toBe(1);
    expect(compareVersions({ epoch: 1, hlc: h1, region: 'z' }, { epoch: 1, hlc: h2, region: 'a' })).toBe(-1);
    expect(compareVersions({ epoch: 1, hlc: h1, region: 'b' }, { epoch: 1, hlc: h1, region: 'a' })).toBe(1);
    expect(compareVersions({ epoch: 1, hlc: h1, region: 'a' }, { epoch: 1, hlc: h1, region: 'a' })).toBe(0);
  });
});
