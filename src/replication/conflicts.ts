/**
 * @module The conflict log's record, as the CLI reads it. The log itself is kept by the
 * replica store (src/ports/replica-store.ts).
 */
export type { ConflictRecord } from '../ports/replica-store.js';
