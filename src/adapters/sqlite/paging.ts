/**
 * @module Paging shared by the embedded stores: page sizes and opaque cursors (a
 * tuple of strings as base64url JSON). A cursor that does not decode is a client
 * error, not a crash.
 */
import { DomainError } from '../../core/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../ports/table-store.js';

export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== arity || !parts.every((p) => typeof p === 'string')) {
    throw new DomainError('invalid_request', 'malformed cursor');
  }
  return parts as string[];
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1)
    throw new DomainError('invalid_request', 'limit must be a positive integer');
  return Math.min(limit, MAX_PAGE_SIZE);
}
