/**
 * @module JSON request bodies, read under three bounds before anything is parsed: the
 * route's size limit (small by default: `JSON_BODY_LIMIT`), a deadline (a body sent a
 * byte at a time is cut with 408), and a nesting depth (`JSON_MAX_DEPTH`, checked by
 * one pass over the text, so a deeply nested body costs no parse). The raw text is kept
 * on the request for signed inter-region calls; `__proto__` and `constructor.prototype`
 * keys are refused by Fastify's parser.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';
import { BODY_TIMEOUT_PER_MIB_MS } from './limits.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/** The default for every JSON route; a route that needs more says so (`bodyLimit`). */
export const JSON_BODY_LIMIT = 64 * 1024;
/** For routes whose whole body is a few short fields (sign-in, password, users, state). */
export const SMALL_JSON_BODY_LIMIT = 8 * 1024;
/** Deeper than any body this API takes (a replicated change is about six levels). */
export const JSON_MAX_DEPTH = 32;

const MIB = 1024 * 1024;

const SLOW = Symbol('mraa.slowBody');

/** Whether a request's body missed its deadline (its connection is closed, not drained). */
export function tooSlow(request: IncomingMessage): boolean {
  return (request as IncomingMessage & { [SLOW]?: true })[SLOW] === true;
}

/**
 * Whether a JSON text nests arrays and objects deeper than `max`. One pass, strings
 * skipped with indexOf; malformed text answers false (the parser refuses it next).
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return false;
        let backslashes = 0;
        for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
        if (backslashes % 2 === 0) break;
        j++;
      }
      i = j;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Replaces Fastify's JSON and text parsers: JSON under the bounds above, nothing else read. */
export function installJsonBodies(app: FastifyInstance, options: { bodyTimeoutMs: number }): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', (request, payload, done) => {
    readBody(request, payload as IncomingMessage, options.bodyTimeoutMs).then(
      (text) => {
        if (jsonDepthExceeds(text, JSON_MAX_DEPTH)) {
          done(
            new DomainError('invalid_request', `the JSON body nests deeper than ${JSON_MAX_DEPTH} levels`),
            undefined,
          );
          return;
        }
        request.rawBody = text;
        parseJson(request, text, done);
      },
      (err: Error) => done(err, undefined),
    );
  });
}

function readBody(request: FastifyRequest, payload: IncomingMessage, bodyTimeoutMs: number): Promise<string> {
  const limit = request.routeOptions.bodyLimit ?? JSON_BODY_LIMIT;
  const header = request.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0))
    return Promise.reject(new DomainError('invalid_request', 'the Content-Length is not a number of bytes'));
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge(limit));
  const deadlineMs = bodyTimeoutMs + Math.ceil((declared ?? limit) / MIB) * BODY_TIMEOUT_PER_MIB_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (err: Error | undefined) => {
      clearTimeout(timer);
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      if (err) {
        payload.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, received).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return finish(tooLarge(limit));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (declared !== undefined && received !== declared)
        return finish(new DomainError('invalid_request', 'the body is shorter or longer than its Content-Length'));
      finish(undefined);
    };
    // A DomainError is a check on the stream (a signed digest that does not match): kept as it is.
    const onError = (err: Error) =>
      finish(
        err instanceof DomainError
          ? err
          : new DomainError('invalid_request', `the body could not be read: ${err.message}`),
      );
    const timer = setTimeout(() => {
      (request.raw as IncomingMessage & { [SLOW]?: true })[SLOW] = true;
      finish(
        new DomainError('request_timeout', `the body did not arrive within ${Math.round(deadlineMs / 1000)} s`, {
          timeoutMs: deadlineMs,
        }),
      );
    }, deadlineMs);
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  });
}

function tooLarge(limit: number): DomainError {
  return new DomainError('too_large', `a JSON body here is at most ${limit} bytes`, { maxBytes: limit });
}
