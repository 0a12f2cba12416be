/**
 * @module A wake-up signal for background loops: `wait` resolves when `notify` is
 * called (true) or the timeout passes (false). A notify with no waiter is remembered.
 */
export class Signal {
  private pending = false;
  private waiter: ((woken: boolean) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  notify(): void {
    if (this.waiter) this.settle(true);
    else this.pending = true;
  }

  wait(timeoutMs: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => this.settle(false), timeoutMs);
    });
  }

  private settle(woken: boolean): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    w?.(woken);
  }
}
