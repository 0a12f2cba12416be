/**
 * @module The tables of a region: the routing layer's state, users, and the sample
 * application's photos and comments.
 */
import type { TableDefinition } from '../ports/table-store.js';

export const TABLES: readonly TableDefinition[] = [
  // The state record as this region last read it from the control plane's register (DESIGN §3a).
  { name: 'app-config', key: 'appId', local: true },
  { name: 'users', key: 'username' },
  {
    name: 'photos',
    key: 'photoId',
    indexes: { newest: { hash: 'appId', sort: 'createdAt' }, byOwner: { hash: 'owner', sort: 'createdAt' } },
  },
  { name: 'comments', key: 'commentId', indexes: { byPhoto: { hash: 'photoId', sort: 'createdAt' } } },
];
