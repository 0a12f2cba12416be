/**
 * @module A photo's comments, oldest first, and the box to add one (disabled, with the
 * reason, while writes are paused).
 */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { type Comment, describeError, isAbort } from '../api';
import { COMMENT_MAX } from '../api/comments';
import { useServices } from '../app/services';
import { useWritesPaused } from '../app/useWritesPaused';
import { resumesWhen } from '../app/writes';
import { ErrorNote } from '../ui/ErrorNote';
import { formatDateTime } from '../ui/format';

export function CommentsSection({ photoId }: { photoId: string }) {
  const { api } = useServices();
  const paused = useWritesPaused();
  const [comments, setComments] = useState<Comment[]>();
  const [loadError, setLoadError] = useState<string>();
  const [message, setMessage] = useState('');
  const [posting, setPosting] = useState(false);
  const [postError, setPostError] = useState<string>();
  const boxId = useId();

  useEffect(() => {
    const ac = new AbortController();
    api.comments.list(photoId, ac.signal).then(setComments, (err: unknown) => {
      if (!isAbort(err)) setLoadError(describeError(err, 'load'));
    });
    return () => ac.abort();
  }, [api, photoId]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const text = message.trim();
    if (!text) return setPostError('Write something first.');
    setPosting(true);
    setPostError(undefined);
    try {
      const comment = await api.comments.post(photoId, text);
      setComments((old) => [...(old ?? []), comment]);
      setMessage('');
    } catch (err) {
      setPostError(describeError(err, 'comment'));
    } finally {
      setPosting(false);
    }
  }

  return (
    <section aria-labelledby={`${boxId}-title`} className="comments stack">
      <h2 id={`${boxId}-title`}>Comments</h2>
      <ErrorNote message={loadError} />
      {comments && comments.length === 0 && <p className="muted">No comments yet.</p>}
      {!comments && !loadError && <p className="muted">Loading comments…</p>}
      {comments && comments.length > 0 && (
        <ol className="comment-list">
          {comments.map((c) => (
            <li key={c.commentId}>
              <div className="comment-meta">
                <strong>{c.user}</strong> <time dateTime={c.createdAt}>{formatDateTime(c.createdAt)}</time>
              </div>
              <p className="comment-text">{c.message}</p>
            </li>
          ))}
        </ol>
      )}
      <form onSubmit={submit} className="stack">
        <label htmlFor={boxId}>Comment</label>
        <textarea
          id={boxId}
          rows={3}
          maxLength={COMMENT_MAX}
          value={message}
          disabled={!!paused || posting}
          aria-describedby={`${boxId}-hint`}
          onChange={(e) => setMessage(e.target.value)}
        />
        <p id={`${boxId}-hint`} className={paused ? 'paused-reason' : 'hint'}>
          {paused
            ? `${paused.reason} ${resumesWhen(paused.kind, 'Comments')}`
            : `${message.trim().length} / ${COMMENT_MAX} characters`}
        </p>
        <ErrorNote message={postError} />
        <div>
          <button type="submit" disabled={!!paused || posting || !message.trim()}>
            {posting ? 'Posting…' : 'Post comment'}
          </button>
        </div>
      </form>
    </section>
  );
}
