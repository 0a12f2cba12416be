/**
 * @module Client-side write load for scenario tests: comments posted with bounded
 * concurrency, each acknowledged write remembered by its id and unique message.
 */
export interface Ack {
  commentId: string;
  message: string;
}

export interface LoadResult {
  acked: Ack[];
  failed: number;
  errors: Map<string, number>;
}

/**
 * Post `count` comments. With a string URL every write goes there; with `follow`, a 421
 * `not_active_region` answer moves the following writes to its `activeUrl`, as a client would.
 */
export async function postComments(
  url: string,
  token: string,
  photoId: string,
  count: number,
  options: { concurrency?: number; prefix?: string; stop?: () => boolean; follow?: boolean } = {},
): Promise<LoadResult> {
  const { concurrency = 8, prefix = 'c' } = options;
  const acked: Ack[] = [];
  const errors = new Map<string, number>();
  let failed = 0;
  let next = 0;
  let target = url;
  const worker = async () => {
    while (next < count && !options.stop?.()) {
      const i = next++;
      const message = `${prefix}-${i}`;
      try {
        const res = await fetch(`${target}/comments/${photoId}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message }),
          signal: AbortSignal.timeout(10_000),
        });
        if (res.status === 201)
          acked.push({ commentId: ((await res.json()) as { commentId: string }).commentId, message });
        else {
          failed++;
          const error = ((await res.json().catch(() => ({}))) as { error?: { code?: string; activeUrl?: string } })
            .error;
          const code = error?.code ?? String(res.status);
          if (options.follow && code === 'not_active_region' && error?.activeUrl) target = error.activeUrl;
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      } catch (err) {
        failed++;
        const code = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
        errors.set(code, (errors.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { acked, failed, errors };
}

/** Every comment of a photo in a region, all pages. */
export async function allComments(
  url: string,
  token: string,
  photoId: string,
): Promise<Array<{ commentId: string; message: string }>> {
  const out: Array<{ commentId: string; message: string }> = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const res = await fetch(`${url}/comments/${photoId}${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET comments: ${res.status}`);
    const body = (await res.json()) as {
      comments: Array<{ commentId: string; message: string }>;
      nextCursor: string | null;
    };
    out.push(...body.comments);
    cursor = body.nextCursor;
  } while (cursor);
  return out;
}

/** Checks that every acknowledged write is present exactly once, and nothing is duplicated. */
export function checkExactlyOnce(
  present: Array<{ commentId: string; message: string }>,
  acked: Ack[],
): { missing: Ack[]; duplicated: string[] } {
  const byMessage = new Map<string, number>();
  for (const c of present) byMessage.set(c.message, (byMessage.get(c.message) ?? 0) + 1);
  const ids = new Set(present.map((c) => c.commentId));
  return {
    missing: acked.filter((a) => !ids.has(a.commentId)),
    duplicated: [...byMessage].filter(([, n]) => n > 1).map(([m]) => m),
  };
}
