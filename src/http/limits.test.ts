import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-body.js';
import { AddressSlots, addressKey } from './limits.js';

describe('address keys', () => {
  it('counts an IPv4 address, an IPv4-mapped IPv6 address as IPv4, and IPv6 by its /64', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('address slots', () => {
  it('refuses past the per-address cap, then past the total, and frees on release (once)', () => {
    const slots = new AddressSlots(3, 2, true);
    const a1 = slots.take('10.0.0.1');
    const a2 = slots.take('10.0.0.1');
    expect(slots.take('10.0.0.1')).toBe('address');
    const b1 = slots.take('2001:db8::1');
    expect(slots.take('2001:db8::2')).toBe('total');
    expect(slots.size).toBe(3);
    if (typeof a1 !== 'function' || typeof a2 !== 'function' || typeof b1 !== 'function') throw new Error('refused');
    a1();
    a1();
    expect(slots.size).toBe(2);
    expect(slots.heldBy('10.0.0.1')).toBe(1);
    expect(typeof slots.take('10.0.0.1')).toBe('function');
  });

  it('holds loopback to the total only, unless told otherwise', () => {
    const slots = new AddressSlots(10, 1);
    expect(typeof slots.take('127.0.0.1')).toBe('function');
    expect(typeof slots.take('127.0.0.1')).toBe('function');
    expect(new AddressSlots(10, 1, true).take('::1')).toBeTypeOf('function');
  });
});

describe('JSON depth', () => {
  it('counts nesting outside strings only, escapes included', () => {
    expect(jsonDepthExceeds('[[[1]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[1]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":{"c":1}}}', 3)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}"}`, 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":"x\\\\"}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":"\\"[[[[[[","b":1}', 1)).toBe(false);
    expect(jsonDepthExceeds('[1],[2],[3]', 1)).toBe(false);
    expect(jsonDepthExceeds('"unterminated [[[[', 1)).toBe(false);
  });
});
