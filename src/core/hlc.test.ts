import { describe, expect, it } from 'vitest';
import { ClockAheadError, ClockExhaustedError, formatHlc, HybridLogicalClock, isHlc, parseHlc } from './hlc.js';
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

  it('orders local events after a timestamp observed from a clock ahead (within the bound)', () => {
    const now = 1000;
    const clock = new HybridLogicalClock({ now: () => now, maxAheadMs: 10_000 });
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

  describe('seeded from the newest version on disk', () => {
    it('starts above the seed when the wall clock is behind it (a restart with the clock set back 5 s)', () => {
      let now = 1_700_000_010_000;
      const before = new HybridLogicalClock(() => now);
      let lastIssued = '';
      for (let i = 0; i < 3; i++) lastIssued = before.tick();
      // Restart: the host's wall clock now reads 5 s earlier than the last write.
      now -= 5000;
      const after = new HybridLogicalClock({ now: () => now, seed: lastIssued });
      const first = after.tick();
      expect(first > lastIssued).toBe(true);
      expect(parseHlc(first)).toEqual({ wall: 1_700_000_010_000, logical: 3 });
      // It keeps going up while the wall clock catches up, then follows it again.
      now += 4000;
      expect(after.tick() > first).toBe(true);
      now += 2000;
      expect(parseHlc(after.tick())).toEqual({ wall: 1_700_000_011_000, logical: 0 });
    });

    it('follows the wall clock at once when the seed is older', () => {
      const clock = new HybridLogicalClock({ now: () => 2000, seed: formatHlc({ wall: 1000, logical: 5 }) });
      expect(parseHlc(clock.tick())).toEqual({ wall: 2000, logical: 0 });
    });

    it('reports the seed before the first tick, and refuses a malformed seed', () => {
      const seed = formatHlc({ wall: 1234, logical: 7 });
      expect(new HybridLogicalClock({ now: () => 0, seed }).peek()).toBe(seed);
      expect(() => new HybridLogicalClock({ seed: '1000000000000000-000000' })).toThrow('malformed');
    });

    it('never issues a malformed timestamp: at the end of the fixed width it throws', () => {
      const clock = new HybridLogicalClock({ now: () => 1000, seed: '999999999999999-999998' });
      expect(clock.tick()).toBe('999999999999999-999999');
      expect(() => clock.tick()).toThrow(ClockExhaustedError);
      expect(clock.peek()).toBe('999999999999999-999999');
    });
  });

  describe('a remote clock ahead', () => {
    const NOW = 1_700_000_000_000;

    it('adopts a remote timestamp up to the bound ahead (500 ms by default)', () => {
      const clock = new HybridLogicalClock(() => NOW);
      const remote = formatHlc({ wall: NOW + 500, logical: 3 });
      clock.observe(remote);
      expect(clock.tick() > remote).toBe(true);
    });

    it('refuses one more than the bound ahead with ClockAheadError, and does not adopt it', () => {
      const clock = new HybridLogicalClock(() => NOW);
      const previous = clock.tick();
      const remote = formatHlc({ wall: NOW + 501, logical: 0 });
      let error: unknown;
      try {
        clock.observe(remote);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ClockAheadError);
      expect((error as ClockAheadError).aheadMs).toBe(501);
      expect((error as ClockAheadError).remote).toBe(remote);
      expect((error as ClockAheadError).maxAheadMs).toBe(500);
      const next = clock.tick();
      expect(next > previous && next < remote).toBe(true);
      expect(parseHlc(next)).toEqual({ wall: NOW, logical: 1 });
    });

    it('takes its bound from the configuration', () => {
      const strict = new HybridLogicalClock({ now: () => NOW, maxAheadMs: 100 });
      expect(() => strict.observe(formatHlc({ wall: NOW + 101, logical: 0 }))).toThrow(ClockAheadError);
      const lenient = new HybridLogicalClock({ now: () => NOW, maxAheadMs: 5000 });
      lenient.observe(formatHlc({ wall: NOW + 4000, logical: 0 }));
      expect(parseHlc(lenient.tick())).toEqual({ wall: NOW + 4000, logical: 2 });
    });

    it('refuses 999999999999999-999999: the next tick stays well-formed and greater than the previous one', () => {
      const clock = new HybridLogicalClock(() => NOW);
      const previous = clock.tick();
      expect(() => clock.observe('999999999999999-999999')).toThrow(ClockAheadError);
      const next = clock.tick();
      expect(isHlc(next)).toBe(true);
      expect(next).toHaveLength(22);
      expect(next > previous).toBe(true);
      expect(parseHlc(next)).toEqual({ wall: NOW, logical: 1 });
    });

    it('refuses malformed values (a 16-digit overflow, garbage) and stays well-formed', () => {
      const clock = new HybridLogicalClock(() => NOW);
      const previous = clock.tick();
      for (const bad of [
        '1000000000000000-000000',
        '00000000000001-0000000',
        '',
        'nonsense',
        '-1',
        42 as unknown as string,
      ]) {
        expect(() => clock.observe(bad)).toThrow('malformed');
      }
      const next = clock.tick();
      expect(isHlc(next) && next > previous).toBe(true);
    });
  });

  it('borrows the next millisecond when the logical counter is exhausted, never widening', () => {
    const clock = new HybridLogicalClock({ now: () => 5, seed: formatHlc({ wall: 5, logical: 999_998 }) });
    expect(clock.tick()).toBe('000000000000005-999999');
    expect(clock.tick()).toBe('000000000000006-000000');
  });
});
