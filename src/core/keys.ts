/**
 * @module Key rules shared by both stores: a key is data, never a path; 1 to 1024
 * bytes of UTF-8 without NUL (S3's limit).
 */
import { DomainError } from './errors.js';

export const MAX_KEY_BYTES = 1024;

export function assertKey(key: unknown, what = 'a key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES || key.includes('\0')) {
    throw new DomainError('invalid_request', `${what} is 1 to ${MAX_KEY_BYTES} bytes of UTF-8 without NUL`);
  }
}
