/**
 * @module Sign-in rate limits: per address and per username, each its own counter, so
 * guessing one user's password from many addresses, or many users' from one, is slowed.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../core/errors.js';

export const SIGNIN_LIMIT_PER_ADDRESS = { points: 30, duration: 60 };
export const SIGNIN_LIMIT_PER_USER = { points: 10, duration: 60 };

export class SignInLimits {
  private readonly byAddress = new RateLimiterMemory({ ...SIGNIN_LIMIT_PER_ADDRESS, keyPrefix: 'signin-address' });
  private readonly byUser = new RateLimiterMemory({ ...SIGNIN_LIMIT_PER_USER, keyPrefix: 'signin-user' });

  /** Count an attempt; throws `rate_limited` with retryAfter when either limit is spent. */
  async attempt(address: string, username: string): Promise<void> {
    try {
      await this.byAddress.consume(address);
      await this.byUser.consume(username.toLowerCase());
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new DomainError('rate_limited', `too many sign-in attempts; retry in ${retryAfter} s`, { retryAfter });
    }
  }
}
