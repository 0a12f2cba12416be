/**
 * @module Comments in the replicated `comments` table, indexed by photo.
 */
import type { Stamp, TableStore } from '../ports/table-store.js';

export const COMMENTS_TABLE = 'comments';

export interface CommentRecord extends Record<string, unknown> {
  commentId: string;
  photoId: string;
  user: string;
  message: string;
  createdAt: string;
}

export class CommentsRepository {
  constructor(private readonly tables: TableStore) {}

  forPhoto(photoId: string, limit: number, cursor: string | null) {
    return this.tables.query<CommentRecord>(COMMENTS_TABLE, 'byPhoto', photoId, { limit, cursor, order: 'asc' });
  }

  async add(comment: CommentRecord, stamp: Stamp): Promise<void> {
    await this.tables.put(COMMENTS_TABLE, comment, { stamp, expected: null });
  }

  async remove(commentId: string, stamp: Stamp): Promise<void> {
    await this.tables.delete(COMMENTS_TABLE, commentId, { stamp });
  }
}
