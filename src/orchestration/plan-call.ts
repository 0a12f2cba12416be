/**
 * @module One JSON call from a plan to a region, with the bearer token; every failure
 * becomes a PlanError (code `unreachable` when the region did not answer).
 */
import { type PlanEnvironment, PlanError, type PlanRegion } from './plan-types.js';

export const CALL_TIMEOUT_MS = 5000;

/** One JSON call to a region with the bearer token; every failure becomes a PlanError. */
export async function call<T>(
  env: PlanEnvironment,
  region: PlanRegion,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<T> {
  const doFetch = env.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { authorization: `Bearer ${env.token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await doFetch(new URL(path, region.url).toString(), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const what =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause ?? 'unreachable');
    throw new PlanError('unreachable', `${region.name} did not answer (${what})`);
  }
  const text = await res.text().catch(() => '');
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    /* not JSON: described by status below */
  }
  if (!res.ok) {
    const error = (parsed.error ?? {}) as Record<string, unknown>;
    const code = typeof error.code === 'string' ? error.code : `http_${res.status}`;
    const message = typeof error.message === 'string' ? error.message : `HTTP ${res.status}`;
    throw new PlanError(code, `${region.name}: ${message}`, res.status, error);
  }
  return parsed as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
