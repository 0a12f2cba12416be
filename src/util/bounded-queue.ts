/**
 * @module A bounded job queue: at most `concurrency` jobs run at once, at most
 * `maxWaiting` wait; one more is refused at once (503 `overloaded` with Retry-After)
 * rather than queued without end. Jobs start in the order they came.
 */
import { DomainError } from '../core/errors.js';

export class BoundedQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly what: string,
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  /** Whether one more job would be refused now. */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxWaiting;
  }

  get stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length < this.maxWaiting) await new Promise<void>((start) => this.waiting.push(start));
    else throw this.refusal();
    try {
      return await job();
    } finally {
      // The slot passes to the next job waiting, or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  refusal(): DomainError {
    return new DomainError('overloaded', `too many ${this.what} at once; try again shortly`, { retryAfter: 1 });
  }
}
