/**
 * @module Identifiers that sort by creation time and never collide across regions:
 * milliseconds in base 36, then 64 random bits.
 */
import { randomBytes } from 'node:crypto';

export function timeOrderedId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
