/**
 * @module The tables of a region: the routing layer's state, users, and the sample
 * application's photos and comments.
 */
import type { TableDefinition } from '../ports/table-store.js';

export const TABLES: readonly TableDefinition[] = [
  { name: 'app-config', key: 'appId' },
  { name: 'users', key: 'username' },
  {
    name: 'photos',
    key: 'photoId',
    indexes: { newest: { hash: 'appId', sort: 'createdAt' }, byOwner: { hash: 'owner', sort: 'createdAt' } },
  },
  { name: 'comments', key: 'commentId', indexes: { byPhoto: { hash: 'photoId', sort: 'createdAt' } } },
];
