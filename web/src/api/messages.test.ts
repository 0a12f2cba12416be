/**
 * @module Error codes become sentences: no raw JSON, no bare status, the wait of a
 * rate limit, the context of a sign-in.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, errorFromBody } from './errors';
import { describeError } from './messages';

describe('describeError', () => {
  it('reads a server error body and maps its code to a sentence', () => {
    const err = errorFromBody(503, '{"error":{"code":"fenced","message":"writes are paused"}}', '5');
    expect(err).toMatchObject({ code: 'fenced', status: 503, retryAfter: 5 });
    expect(describeError(err)).toBe(
      'Writes are paused while the application is fenced. Try again once it is active again.',
    );
  });

  it('says plainly that writes are paused while the regions cannot agree (503 no_quorum)', () => {
    const err = errorFromBody(
      503,
      '{"error":{"code":"no_quorum","message":"writes are paused: us-east-1 does not hold the writer lease of epoch 3; the regions cannot agree without a majority of voters","retryAfter":1}}',
      '1',
    );
    expect(err).toMatchObject({ code: 'no_quorum', status: 503, retryAfter: 1 });
    for (const context of [undefined, 'upload', 'comment'] as const) {
      const text = describeError(err, context);
      expect(text).toMatch(/^Writes are paused because the regions cannot agree: not enough voters are reachable\./);
      expect(text).toMatch(/Reading still works/);
      expect(text).toMatch(/checks again by itself/);
      expect(text).not.toMatch(/lease|epoch|[{}]/);
    }
    expect(describeError(err, 'operation')).toMatch(/^The regions cannot agree: not enough voters are reachable/);
  });

  it('warns that a write refused after it reached the disk may still have been saved', () => {
    const err = new ApiError(
      'no_quorum',
      'writes are paused: us-east-1 does not hold the writer lease of epoch 3 before the write was on disk; it may still take effect; the regions cannot agree without a majority of voters',
      503,
    );
    expect(describeError(err, 'upload')).toBe(
      'Writes were paused just as your upload was being saved: the regions cannot agree (not enough voters are reachable). It may still have been saved, so check before trying again.',
    );
    expect(describeError(err, 'comment')).toMatch(/your comment was being saved/);
  });

  it('words a failed sign-in and a rate limit with its wait', () => {
    expect(describeError(new ApiError('unauthenticated', 'bad', 401), 'signin')).toBe('Wrong username or password.');
    expect(describeError(new ApiError('rate_limited', 'slow down', 429, {}, 30))).toBe(
      'Too many attempts. Wait 30 seconds and try again.',
    );
  });

  it('never shows raw JSON or a bare status, even for an unknown answer', () => {
    const err = errorFromBody(502, '<html>bad gateway</html>', null);
    expect(err.code).toBe('http_502');
    const text = describeError(err);
    expect(text).not.toMatch(/[{}<]/);
    expect(text).toMatch(/went wrong on the server/);
    expect(describeError(new ApiError('network', 'Failed to fetch'))).toMatch(/could not be reached/);
    expect(describeError(new Error('boom'))).toBe('Something unexpected went wrong. Try again.');
  });

  it('keeps the server’s explanation of a refused request, as a sentence', () => {
    expect(describeError(new ApiError('invalid_request', 'newPassword must be 8 to 256 characters', 400))).toBe(
      'That was not accepted: newPassword must be 8 to 256 characters.',
    );
  });
});
