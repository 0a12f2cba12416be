/**
 * @module Error codes in plain words: every failure the app shows goes through here,
 * so a user never sees raw JSON or an HTTP status alone.
 */
import { ApiError } from './errors';

/** What the user was doing, when it changes the wording. */
export type ErrorContext = 'signin' | 'password' | 'upload' | 'comment' | 'delete' | 'load' | 'operation';

const SENTENCES: Record<string, string> = {
  network: 'The server could not be reached. Check your connection, or try again in a moment.',
  timeout: 'The server took too long to answer. Try again in a moment.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'It is not there any more: it may have been deleted.',
  app_not_found: 'This application is not known to the region that answered.',
  too_large: 'The file is too large to upload.',
  unsupported_media_type: 'This kind of file cannot be uploaded: use a JPEG, PNG, WebP or GIF image.',
  fenced: 'Writes are paused while the application is fenced. Try again once it is active again.',
  no_quorum:
    'Writes are paused because the regions cannot agree: not enough voters are reachable. Reading still works; this page checks again by itself and shows when writes resume.',
  not_active_region: 'The application is moving to another region. Try again in a moment.',
  conflict: 'Someone changed this at the same time. Reload and try again.',
  unavailable: 'The service is starting or busy. Try again in a moment.',
  range_not_satisfiable: 'Part of the file could not be read. Try again.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, check the region’s log.',
  illegal_transition: 'That change of state is not allowed now.',
  not_drained: 'The target region has not received every write yet.',
  drain_timeout: 'The target region did not catch up in time.',
};

export function describeError(err: unknown, context?: ErrorContext): string {
  if (!(err instanceof ApiError) && !(err instanceof Error && 'code' in err)) {
    return 'Something unexpected went wrong. Try again.';
  }
  const { code, message } = err as Error & { code: string };
  const api = err instanceof ApiError ? err : undefined;
  if (code === 'unauthenticated' && context === 'signin') return 'Wrong username or password.';
  if (code === 'unauthenticated' && context === 'password') return 'The current password is not right.';
  if (code === 'rate_limited') {
    const wait = api?.retryAfter;
    return `Too many attempts. ${wait ? `Wait ${wait} second${wait === 1 ? '' : 's'} and try again.` : 'Wait a moment and try again.'}`;
  }
  if (code === 'invalid_request')
    return `That was not accepted: ${withPeriod(message.trim() || 'the request is not valid')}`;
  if (code === 'not_drained') {
    const backlog = api?.details.backlog as { entries?: number | null } | undefined;
    const left = typeof backlog?.entries === 'number' ? ` (${backlog.entries} entries behind)` : '';
    return `The target region has not received every write yet${left}. Wait a moment and try again.`;
  }
  if (code === 'illegal_transition' || code === 'drain_timeout' || code === 'unreachable') return sentence(message);
  if (code === 'forbidden' && context === 'delete') return 'Only the photo’s owner or an admin can delete it.';
  if (code === 'no_quorum') return noQuorum(message, context);
  const known = SENTENCES[code];
  if (known) return known;
  const status = api?.status ?? 0;
  if (status >= 500) return SENTENCES.internal!;
  return status ? `The request failed (HTTP ${status}). Try again.` : sentence(message);
}

/**
 * A write refused because no majority of voters answers (DESIGN §3a). When the lease ran
 * out after the write reached the disk, the server says it may still take effect: the
 * user is told to look before trying again, so nothing is saved twice.
 */
function noQuorum(message: string, context: ErrorContext | undefined): string {
  if (context === 'operation') {
    return 'The regions cannot agree: not enough voters are reachable, so the state cannot change now. Bring a voter back (see Voters) and try again.';
  }
  const maybeSaved = /may still take effect/i.test(message);
  const what = context === 'upload' ? 'upload' : context === 'comment' ? 'comment' : 'change';
  return maybeSaved
    ? `Writes were paused just as your ${what} was being saved: the regions cannot agree (not enough voters are reachable). It may still have been saved, so check before trying again.`
    : SENTENCES.no_quorum!;
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return 'Something went wrong. Try again.';
  return withPeriod(t[0]!.toUpperCase() + t.slice(1));
}

function withPeriod(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
