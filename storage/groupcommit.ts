/**
 * Group commit: items added while a write is under way are written together by the next one, so
 * that any number of callers waiting for durability share one fsync. `write` gets the items in
 * the order they were added, one batch at a time; each add() settles as its batch does.
 */
export class GroupCommit<T> {
  private pending: { item: T; done: (err?: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  /** Resolves once nothing is waiting or being written. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(batch.map((b) => b.item));
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.done(e as Error);
      }
    }
    this.flushing = undefined;
  }
}
