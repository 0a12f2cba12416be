/**
 * @module Comments on a photo: listed oldest first; a new one is 1..2000 characters.
 */
import type { Transport } from './transport';
import type { Comment } from './types';

export const COMMENT_MAX = 2000;

export class CommentsApi {
  constructor(private readonly t: Transport) {}

  async list(photoId: string, signal?: AbortSignal): Promise<Comment[]> {
    const body = await this.t.json<{ comments: Comment[] }>(`/comments/${encodeURIComponent(photoId)}`, {
      ...(signal ? { signal } : {}),
    });
    return body.comments;
  }

  post(photoId: string, message: string): Promise<Comment> {
    return this.t.json<Comment>(`/comments/${encodeURIComponent(photoId)}`, { method: 'POST', json: { message } });
  }
}
