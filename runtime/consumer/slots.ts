/**
 * A counting semaphore: at most `size` handlers run at once in one worker. `close()` releases
 * every waiter with `false`, so a loop blocked on a full worker notices shutdown at once.
 */
export class Slots {
  private used = 0;
  private closed = false;
  private readonly waiters: Array<(ok: boolean) => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes a free slot now if there is one (no promise, no wait). */
  tryAcquire(): boolean {
    if (this.closed || this.used >= this.size) return false;
    this.used++;
    return true;
  }

  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next)
      next(true); // the slot passes straight to the waiter
    else this.used--;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(false);
  }
}
