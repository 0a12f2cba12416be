/**
 * @module HTTP Range requests (RFC 9110): a single byte range of a body of known size.
 * Multiple ranges are answered with the whole body, as the RFC allows.
 */
import { DomainError } from '../core/errors.js';
import type { ByteRange } from '../ports/object-store.js';

export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || start > end) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): DomainError {
  return new DomainError('range_not_satisfiable', `the range is outside the body's ${size} bytes`, { size });
}
