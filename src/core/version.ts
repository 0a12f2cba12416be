/**
 * @module Versions of replicated data. Every item and object version carries the
 * epoch under which it was accepted, an HLC timestamp and the region that wrote it.
 * Last-writer-wins orders them by (epoch, hlc, region), epoch first.
 */
import { type Hlc, isHlc } from './hlc.js';

export interface Version {
  epoch: number;
  hlc: Hlc;
  region: string;
}

export function compareVersions(a: Version, b: Version): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  return 0;
}

export function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  if (!a || !b) return a === b;
  return compareVersions(a, b) === 0;
}

export function isVersion(value: unknown): value is Version {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return Number.isSafeInteger(v.epoch) && (v.epoch as number) >= 0 && isHlc(v.hlc) && typeof v.region === 'string';
}
