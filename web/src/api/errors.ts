/**
 * @module The one error type of the web app's API layer: a server's refusal (its
 * `{"error": {code, message}}` body), an unreachable server or a timeout.
 */

export class ApiError extends Error {
  constructor(
    /** The server's error code, or `network`, `timeout`, `http_<status>`. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when no answer came. */
    readonly status = 0,
    readonly details: Record<string, unknown> = {},
    /** Seconds, from a `Retry-After` header. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The ApiError for a response that is not ok; its body is read. */
export async function errorFrom(res: Response): Promise<ApiError> {
  return errorFromBody(res.status, await res.text().catch(() => ''), res.headers.get('retry-after'));
}

export function errorFromBody(status: number, text: string, retryAfterHeader: string | null): ApiError {
  let details: Record<string, unknown> = {};
  try {
    const body = JSON.parse(text) as { error?: Record<string, unknown> };
    if (body && typeof body.error === 'object' && body.error) details = body.error;
  } catch {
    /* not JSON */
  }
  const code = typeof details.code === 'string' ? details.code : `http_${status}`;
  const message = typeof details.message === 'string' ? details.message : `HTTP ${status}`;
  const seconds = retryAfterHeader !== null ? Number(retryAfterHeader) : NaN;
  return new ApiError(code, message, status, details, Number.isFinite(seconds) ? seconds : undefined);
}

/** Wraps what `fetch` throws (offline, refused, aborted by a timeout). */
export function networkError(err: unknown): ApiError | unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') return err;
  if (err instanceof DOMException && err.name === 'TimeoutError') return new ApiError('timeout', 'no answer in time');
  return new ApiError('network', err instanceof Error ? err.message : String(err));
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
