/**
 * @module Domain errors. Every failure a caller can act on carries a stable code;
 * the HTTP layer (src/http/error-handler.ts) is the one place that maps codes to status.
 */

export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'password_change_required'
  | 'not_found'
  | 'app_not_found'
  | 'illegal_transition'
  | 'not_drained'
  | 'conflict'
  | 'precondition_failed'
  | 'request_timeout'
  | 'too_large'
  | 'range_not_satisfiable'
  | 'unsupported_media_type'
  | 'not_active_region'
  | 'rate_limited'
  | 'fenced'
  | 'no_quorum'
  | 'overloaded'
  | 'unavailable'
  | 'internal';

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export function isDomainError(err: unknown, code?: ErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}
