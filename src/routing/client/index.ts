/**
 * @module The routing client's public surface: import this from an application of
 * your own to always talk to the region that takes writes.
 */

export { compareRecords, isNewer, newest } from './records.js';
export { type BackoffOptions, DEFAULT_BACKOFF, RegionStream } from './region-stream.js';
export { type RequestOptions, RoutingClient, type RoutingClientOptions } from './routing-client.js';
export type * from './types.js';
