/**
 * @module The one place that maps errors to HTTP responses. Domain errors carry a
 * code; framework errors (bad JSON, oversized body, unknown content type) are given
 * one; anything else is a bug, logged and answered 500 without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { DomainError, type ErrorCode } from '../core/errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  password_change_required: 403,
  not_found: 404,
  app_not_found: 404,
  illegal_transition: 409,
  not_drained: 409,
  conflict: 409,
  request_timeout: 408,
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  not_active_region: 421,
  rate_limited: 429,
  fenced: 503,
  no_quorum: 503,
  overloaded: 503,
  unavailable: 503,
  internal: 500,
};

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'invalid_request',
  406: 'invalid_request',
  408: 'request_timeout',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  429: 'rate_limited',
};

export function sendError(reply: FastifyReply, err: DomainError): FastifyReply {
  const status = STATUS_BY_CODE[err.code];
  const retryAfter = err.details.retryAfter;
  if (typeof retryAfter === 'number') reply.header('Retry-After', String(retryAfter));
  if (err.code === 'range_not_satisfiable' && typeof err.details.size === 'number')
    reply.header('Content-Range', `bytes */${err.details.size}`);
  return reply
    .code(status)
    .type('application/json')
    .send({ error: { code: err.code, message: err.message, ...err.details } });
}

export function toDomainError(err: FastifyError | Error): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const fe = err as FastifyError;
  if (fe.validation) return new DomainError('invalid_request', fe.message);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DomainError('too_large', 'the request body is too large');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new DomainError('unsupported_media_type', fe.message);
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new DomainError('invalid_request', 'the JSON body is empty');
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError)
    return new DomainError('invalid_request', 'the body is not valid JSON');
  const status = fe.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new DomainError(CODE_BY_STATUS[status] ?? 'invalid_request', fe.message);
  }
  return undefined;
}

/** Errors (domain, framework, bugs) answered in the shape of DESIGN §6. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const domain = toDomainError(err);
    if (domain) return sendError(reply, domain);
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, new DomainError('internal', 'internal error'));
  });
}

export function installErrorHandling(app: FastifyInstance): void {
  installErrorHandler(app);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new DomainError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
