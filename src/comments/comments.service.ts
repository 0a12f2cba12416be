/**
 * @module Comments on photos: validated text, the author taken from the token, stored
 * as data and returned as JSON (never spliced into markup).
 */
import { DomainError } from '../core/errors.js';
import type { Stamp } from '../ports/table-store.js';
import { timeOrderedId } from '../util/ids.js';
import type { CommentRecord, CommentsRepository } from './comments.repository.js';

export const MAX_COMMENT_CHARS = 2000;
export const COMMENTS_PAGE = 500;
// C0 controls except tab and newline, DEL, C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;

export function cleanMessage(raw: string): string {
  const message = raw.trim().replace(/\r\n?/g, '\n');
  const chars = [...message].length;
  if (chars === 0) throw new DomainError('invalid_request', 'a comment cannot be empty');
  if (chars > MAX_COMMENT_CHARS)
    throw new DomainError(
      'invalid_request',
      `a comment is at most ${MAX_COMMENT_CHARS} characters (this one has ${chars})`,
    );
  if (CONTROL.test(message)) throw new DomainError('invalid_request', 'a comment cannot contain control characters');
  return message;
}

export class CommentsService {
  constructor(
    private readonly repo: CommentsRepository,
    private readonly photoExists: (photoId: string) => Promise<boolean>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(
    photoId: string,
    cursor: string | null = null,
  ): Promise<{ comments: CommentRecord[]; nextCursor: string | null }> {
    if (!(await this.photoExists(photoId))) throw new DomainError('not_found', `no photo ${photoId}`);
    const page = await this.repo.forPhoto(photoId, COMMENTS_PAGE, cursor);
    return { comments: page.items, nextCursor: page.nextCursor };
  }

  async add(photoId: string, user: string, rawMessage: string, stamp: Stamp): Promise<CommentRecord> {
    const message = cleanMessage(rawMessage);
    if (!(await this.photoExists(photoId))) throw new DomainError('not_found', `no photo ${photoId}`);
    const now = this.now();
    const comment: CommentRecord = {
      commentId: timeOrderedId(now.getTime()),
      photoId,
      user,
      message,
      createdAt: now.toISOString(),
    };
    await this.repo.add(comment, stamp);
    return comment;
  }

  /** Remove every comment of a photo (when the photo is deleted). */
  async removeAll(photoId: string, stamp: Stamp): Promise<number> {
    let removed = 0;
    for (;;) {
      const page = await this.repo.forPhoto(photoId, COMMENTS_PAGE, null);
      if (page.items.length === 0) return removed;
      for (const c of page.items) await this.repo.remove(c.commentId, stamp);
      removed += page.items.length;
    }
  }
}
