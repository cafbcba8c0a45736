// An in-memory stand-in for the Dapr state API the services use (`StateClient`): values with numeric-string
// ETags that change on every write, first-write-wins when a save names an ETag, and copies in and out so that
// callers never share objects with the store. Hooks let a test interleave other work before a save (to make
// ETag conflicts happen for real) or make a chosen save throw (to simulate a crash between two writes).
import { EtagMismatch, type SaveItem, type StateEntry } from '#shared/dapr.ts';
import type { StateClient } from '#shared/state.ts';

interface Stored {
  value: unknown;
  etag: string;
  /** The TTL of its last save, in seconds. */
  ttlSeconds?: number;
}

/** Runs before each save is checked and applied; may await, and may write to the store with `put`. */
export type BeforeSave = (items: SaveItem[], fake: FakeState) => void | Promise<void>;

interface PlannedFailure {
  /** Which of the matching saves throws, counting from 1 when the failure was planned. */
  remaining: number;
  matches: (items: SaveItem[]) => boolean;
  error: Error;
}

export class FakeState implements StateClient {
  private readonly data = new Map<string, Stored>();
  private version = 0;
  private failures: PlannedFailure[] = [];

  /** Called before every save (after the caller read, before the ETag check). */
  beforeSave: BeforeSave | undefined;

  /** getState calls. */
  reads = 0;
  /** getStates calls (bulk reads). */
  bulkReads = 0;
  /** Saves that were applied. */
  writes = 0;
  /** Saves refused with EtagMismatch. */
  conflicts = 0;
  /** Saves that threw a planned failure. */
  failed = 0;
  /** Every saveState call, in order, as it arrived (copies). */
  readonly saveLog: SaveItem[][] = [];

  constructor(initial: Record<string, unknown> = {}) {
    for (const [key, value] of Object.entries(initial)) this.put(key, value);
  }

  async getState<T>(key: string): Promise<StateEntry<T>> {
    this.reads += 1;
    await Promise.resolve();
    return this.read<T>(key);
  }

  /** Every key as `getState` reads it, in the order asked for: one call. */
  async getStates<T>(keys: readonly string[]): Promise<StateEntry<T>[]> {
    this.bulkReads += 1;
    await Promise.resolve();
    return keys.map((key) => this.read<T>(key));
  }

  private read<T>(key: string): StateEntry<T> {
    const stored = this.data.get(key);
    if (!stored) return { value: undefined, etag: undefined };
    return { value: structuredClone(stored.value) as T, etag: stored.etag };
  }

  async saveState(items: SaveItem[]): Promise<void> {
    this.saveLog.push(structuredClone(items));
    await this.beforeSave?.(items, this);

    for (const failure of this.failures) {
      if (!failure.matches(items)) continue;
      failure.remaining -= 1;
      if (failure.remaining === 0) {
        this.failures = this.failures.filter((planned) => planned !== failure);
        this.failed += 1;
        throw failure.error;
      }
    }

    // First-write concurrency, as daprd applies it: with an ETag only if it still matches, without one
    // only if the key does not exist yet (a create). The fake checks every item before writing any; a real
    // bulk save promises no such thing (Redis and PostgreSQL write item by item), which is why the
    // services save one key per call.
    for (const item of items) {
      const stored = this.data.get(item.key);
      if (item.etag === undefined ? stored !== undefined : stored?.etag !== item.etag) {
        this.conflicts += 1;
        throw new EtagMismatch(item.key);
      }
    }
    for (const item of items) this.put(item.key, item.value, item.ttlSeconds);
    this.writes += 1;
  }

  /** Forgets the failures planned with failOnSave that have not happened yet. */
  cancelFailures(): void {
    this.failures = [];
  }

  /** Writes a value directly (no hooks, no ETag check), as another process would; bumps the ETag. */
  put(key: string, value: unknown, ttlSeconds?: number): void {
    this.version += 1;
    const stored: Stored = { value: structuredClone(value), etag: String(this.version) };
    if (ttlSeconds !== undefined) stored.ttlSeconds = ttlSeconds;
    this.data.set(key, stored);
  }

  /** The TTL the last save of `key` set, in seconds (undefined: none). */
  ttlOf(key: string): number | undefined {
    return this.data.get(key)?.ttlSeconds;
  }

  /** A copy of what is stored under `key`, read synchronously. */
  peek<T>(key: string): T | undefined {
    const stored = this.data.get(key);
    return stored ? (structuredClone(stored.value) as T) : undefined;
  }

  etagOf(key: string): string | undefined {
    return this.data.get(key)?.etag;
  }

  keys(): string[] {
    return [...this.data.keys()];
  }

  /**
   * Makes the `nth` save from now throw `error` (nothing is written), counting only saves that `matches`
   * accepts when given, e.g. `failOnSave(1, (items) => items.some((i) => i.key.startsWith('reservation:')))`.
   */
  failOnSave(nth: number, matches: (items: SaveItem[]) => boolean = () => true, error = new Error('simulated crash')) {
    if (!Number.isInteger(nth) || nth < 1) throw new Error(`failOnSave: nth must be 1 or more, got ${nth}`);
    this.failures.push({ remaining: nth, matches, error });
    return error;
  }
}

/** A save that touches `key` (or a key starting with `prefix*`). */
export const touches =
  (pattern: string) =>
  (items: SaveItem[]): boolean =>
    items.some((item) => (pattern.endsWith('*') ? item.key.startsWith(pattern.slice(0, -1)) : item.key === pattern));

/** A beforeSave hook that lets every other pending task run first, so concurrent callers read stale ETags. */
export const yieldToOthers: BeforeSave = () => new Promise<void>((resolve) => setImmediate(resolve));
