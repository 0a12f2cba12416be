import { describe, expect, test } from 'vitest';
import { connectionKey, FrameError, FrameOpener, FrameSealer, MAC_BYTES } from './stream-frames.js';

const KEY = 'k'.repeat(43);
const key = connectionKey(KEY, 'nonce-1');

/** A sealer and an opener of the same direction of one connection. */
function pair(direction: 'batches' | 'answers' = 'batches') {
  return { sealer: new FrameSealer(key, direction), opener: new FrameOpener(key, direction) };
}

describe('stream frames', () => {
  test('frames sealed then opened in order give back their text', () => {
    const { sealer, opener } = pair();
    const texts = ['{"id":1}', '', 'héllo ✓', '{"id":2,"batch":{}}'];
    const frames = texts.map((t) => sealer.seal(t));
    expect(frames.map((f) => f.length)).toEqual(texts.map((t) => MAC_BYTES + Buffer.byteLength(t)));
    expect(frames.map((f) => opener.open(f))).toEqual(texts);
  });

  test('a frame with one byte altered, in its text or its MAC, is refused', () => {
    for (const at of [0, MAC_BYTES - 1, MAC_BYTES, MAC_BYTES + 5]) {
      const { sealer, opener } = pair();
      const frame = sealer.seal('{"id":1,"batch":{"n":1}}');
      const altered = Buffer.from(frame);
      altered[at] = altered[at]! ^ 0x01;
      expect(() => opener.open(altered)).toThrow(FrameError);
      expect(opener.open(frame)).toBe('{"id":1,"batch":{"n":1}}');
    }
  });

  test('a frame opened twice (replayed) is refused the second time', () => {
    const { sealer, opener } = pair();
    const frame = sealer.seal('one');
    expect(opener.open(frame)).toBe('one');
    expect(() => opener.open(frame)).toThrow(FrameError);
  });

  test('frames opened out of order are refused', () => {
    const { sealer, opener } = pair();
    const first = sealer.seal('first');
    const second = sealer.seal('second');
    expect(() => opener.open(second)).toThrow(FrameError);
    expect(opener.open(first)).toBe('first');
    expect(opener.open(second)).toBe('second');
  });

  test('a frame sent back the way it came (sealed as a batch, opened as an answer) is refused', () => {
    const frame = new FrameSealer(key, 'batches').seal('reflected');
    expect(() => new FrameOpener(key, 'answers').open(frame)).toThrow(FrameError);
    expect(new FrameOpener(key, 'batches').open(frame)).toBe('reflected');
    const answer = new FrameSealer(key, 'answers').seal('reflected');
    expect(() => new FrameOpener(key, 'batches').open(answer)).toThrow(FrameError);
  });

  test("a frame of another connection (another nonce's key) is refused", () => {
    const other = new FrameSealer(connectionKey(KEY, 'nonce-2'), 'batches').seal('elsewhere');
    expect(() => new FrameOpener(key, 'batches').open(other)).toThrow(FrameError);
    const otherKey = new FrameSealer(connectionKey('x'.repeat(43), 'nonce-1'), 'batches').seal('elsewhere');
    expect(() => new FrameOpener(key, 'batches').open(otherKey)).toThrow(FrameError);
  });

  test('a frame shorter than its MAC is refused', () => {
    const { opener } = pair();
    expect(() => opener.open(Buffer.alloc(0))).toThrow(FrameError);
    expect(() => opener.open(Buffer.alloc(MAC_BYTES - 1))).toThrow(/shorter than its MAC/);
  });

  test('a refused frame does not move the opener on: the right next frame still opens', () => {
    const { sealer, opener } = pair();
    const frames = [sealer.seal('a'), sealer.seal('b'), sealer.seal('c')];
    expect(opener.open(frames[0]!)).toBe('a');
    const forged = Buffer.from(frames[1]!);
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 0xff;
    expect(() => opener.open(forged)).toThrow(FrameError);
    expect(() => opener.open(frames[2]!)).toThrow(FrameError);
    expect(() => opener.open(Buffer.alloc(3))).toThrow(FrameError);
    expect(opener.open(frames[1]!)).toBe('b');
    expect(opener.open(frames[2]!)).toBe('c');
  });
});
