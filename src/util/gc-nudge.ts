/**
 * @module Keeps streamed bodies from inflating memory. Every chunk a stream reads is
 * a fresh buffer; V8 frees them only when it next collects, and it lets up to 64 MiB
 * of such external memory pile up first. A minor (young-generation) collection every
 * few MiB streamed frees them at once, for well under a millisecond each.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type: 'minor' | 'major' }) => void;

export const NUDGE_EVERY_BYTES = 4 * 1024 * 1024;

function findGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Gc;
  } catch {
    return undefined;
  }
}

const gc = findGc();
let streamed = 0;

/** Count bytes streamed through this process; collect young garbage every few MiB. */
export function streamedBytes(n: number): void {
  if (!gc) return;
  streamed += n;
  if (streamed >= NUDGE_EVERY_BYTES) {
    streamed = 0;
    gc({ type: 'minor' });
  }
}
