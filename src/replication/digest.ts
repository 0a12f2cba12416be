/**
 * @module Digests of a region's data for `mraa verify`, as the CLI reads them. They are
 * computed by the replica store (src/ports/replica-store.ts).
 */
export type { DataDigest, KeyFingerprints } from '../ports/replica-store.js';
