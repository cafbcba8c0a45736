// Two small ways of taking turns inside this process, so that writers of one state key do not race
// each other (and lose their ETag check) when a few requests are in flight at once.

/** Work for one key runs one at a time, in arrival order; other keys are not held up. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return current;
  }

  /** Keys with work queued or running (for tests). */
  get size(): number {
    return this.tails.size;
  }
}

/**
 * Group commit: items submitted while a write is under way are written together by the next one, so
 * one hot key is written at most once at a time however many requests want to change it. Each caller
 * gets the result of the write that carried its item (or its error).
 */
export class GroupCommit<I, R> {
  private pending: { item: I; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  private running = false;
  /** Writes done (for tests and metrics). */
  commits = 0;

  /**
   * `gatherTick`: the first write waits for the end of the current tick, so that items submitted together
   * (e.g. for every message of one request) share it, instead of the first going alone.
   */
  constructor(
    private readonly write: (items: I[]) => Promise<(item: I) => R>,
    private readonly options: { gatherTick?: boolean } = {},
  ) {}

  /** Nothing is waiting and no write is under way. */
  get idle(): boolean {
    return !this.running && this.pending.length === 0;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.running) return;
      this.running = true;
      if (this.options.gatherTick) queueMicrotask(() => void this.drain());
      else void this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const resultOf = await this.write(batch.map((entry) => entry.item));
          this.commits += 1;
          for (const entry of batch) entry.resolve(resultOf(entry.item));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
