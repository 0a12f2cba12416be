import { describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.js';
import { parseRange } from './range.js';

describe('Range header', () => {
  it('parses the three forms of a single range', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
  });

  it('ignores what it does not understand (whole body)', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-1,5-6', 10)).toBeUndefined();
    expect(parseRange('items=0-1', 10)).toBeUndefined();
  });

  it('refuses ranges outside the body with 416', () => {
    for (const h of ['bytes=100-', 'bytes=5-2', 'bytes=-0']) {
      expect(() => parseRange(h, 100)).toThrow(DomainError);
    }
  });
});
