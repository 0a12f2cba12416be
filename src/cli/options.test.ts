/**
 * @module Unit tests of the option parsers and of when output is coloured (issue 15).
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { colorEnabled } from './format.js';
import { integer, name, reason, seconds } from './options.js';
import { wantsJson } from './program.js';

describe('option parsers', () => {
  it('seconds: decimals above 0 up to the maximum, as milliseconds; everything else refused', () => {
    const timeout = seconds(86_400);
    expect(timeout('60')).toBe(60_000);
    expect(timeout('0.5')).toBe(500);
    expect(timeout('86400')).toBe(86_400_000);
    for (const bad of ['abc', '-5', '0', '', ' 5', '1e3', 'NaN', 'Infinity', '86401', '5s']) {
      expect(() => timeout(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(seconds(60, { zero: true })('0')).toBe(0);
  });

  it('integer: whole numbers in range only', () => {
    const rate = integer(1, 2000, 'a rate');
    expect(rate('20')).toBe(20);
    for (const bad of ['0', '2001', '1.5', '-1', 'x', ''])
      expect(() => rate(bad), bad).toThrow(/Expected a rate from 1/);
  });

  it('names and reasons', () => {
    expect(name('ap-northeast-1')).toBe('ap-northeast-1');
    for (const bad of ['AP', '../x', '-a', '']) expect(() => name(bad), bad).toThrow(InvalidArgumentError);
    expect(reason('maintenance')).toBe('maintenance');
    expect(() => reason('')).toThrow(InvalidArgumentError);
    expect(() => reason('x'.repeat(501))).toThrow(InvalidArgumentError);
  });

  it('--json is seen anywhere before --', () => {
    expect(wantsJson(['state', '--json'])).toBe(true);
    expect(wantsJson(['--json', 'state'])).toBe(true);
    expect(wantsJson(['state', '--', '--json'])).toBe(false);
  });
});

describe('colour', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it('on a terminal only, each stream on its own', () => {
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });
  it('NO_COLOR turns it off, FORCE_COLOR on (and FORCE_COLOR=0 off)', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
  });
});
