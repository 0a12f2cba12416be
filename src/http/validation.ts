/**
 * @module Request validation with zod: a body or query that does not fit its schema
 * becomes a 400 `invalid_request` naming each problem.
 */
import type { z } from 'zod';
import { DomainError } from '../core/errors.js';

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const summary = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
  throw new DomainError('invalid_request', `invalid ${what}: ${summary}`, { problems });
}
