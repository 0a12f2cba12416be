/**
 * @module The routing client's public surface: import this from an application of
 * your own to always talk to the region that takes writes.
 */
export { RoutingClient, type RoutingClientOptions, type RequestOptions } from './routing-client.js';
export { RegionStream, DEFAULT_BACKOFF, type BackoffOptions } from './region-stream.js';
export { compareRecords, isNewer, newest } from './records.js';
export type * from './types.js';
