import { describe, expect, test } from 'vitest';
import { ApiError } from '../api/errors';
import { ARRIVAL_WAIT_MS, arrivalRetryDelay, mayStillArrive } from './arrival-retry';

describe('asking again for bytes still on their way', () => {
  test('backs off from 250 ms to 4 s and gives up once the wait is spent', () => {
    const delays: number[] = [];
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const d = arrivalRetryDelay(attempt, waited);
      if (d === null) break;
      delays.push(d);
      waited += d;
    }
    expect(delays.slice(0, 6)).toEqual([250, 500, 1000, 2000, 4000, 4000]);
    expect(waited).toBeLessThanOrEqual(ARRIVAL_WAIT_MS);
    expect(waited).toBeGreaterThan(ARRIVAL_WAIT_MS - 4000);
  });

  test('only a 404 may be a body on its way', () => {
    expect(mayStillArrive(new ApiError('not_found', 'no body', 404))).toBe(true);
    expect(mayStillArrive(new ApiError('unauthenticated', 'sign in', 401))).toBe(false);
    expect(mayStillArrive(new ApiError('network', 'offline'))).toBe(false);
    expect(mayStillArrive(new Error('x'))).toBe(false);
  });
});
