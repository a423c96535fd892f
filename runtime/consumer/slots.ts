/**
 * A counting semaphore without promises: at most `size` holders at once, the others wait in
 * arrival order. A released slot passes straight to the first waiter, which `release` returns
 * (the caller starts it); `close()` refuses new holders and returns every waiter, so a stopping
 * consumer can hand them back at once. No promise per acquisition: on a consumer's hot path each
 * one was a microtask per delivery.
 */
export class Slots<T> {
  private used = 0;
  private closed = false;
  /** FIFO of waiters; `head` avoids Array.shift, which copies the whole array. */
  private waiting: T[] = [];
  private head = 0;

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Waiters not yet holding a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Takes a free slot now if there is one and nobody waits for it. */
  tryAcquire(): boolean {
    if (this.closed || this.used >= this.size || this.queued > 0) return false;
    this.used++;
    return true;
  }

  /** Takes a slot for `item` now (true), or queues it for the next released slot (false). Closed: neither (false, not queued). */
  offer(item: T): boolean {
    if (this.tryAcquire()) return true;
    if (!this.closed) this.waiting.push(item);
    return false;
  }

  /** Gives a slot back; the waiter it passes to, if any (it now holds the slot). */
  release(): T | undefined {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as T; // let it be collected
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      return next;
    }
    this.used--;
    return undefined;
  }

  /** Refuses new holders; returns the waiters (they never got a slot). */
  close(): T[] {
    this.closed = true;
    const left = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    return left;
  }
}
