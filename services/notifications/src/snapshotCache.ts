// The snapshot a new live connection starts from (every recent order with its timeline: about 200 keys),
// read once for a burst of connections rather than once each.
//
// Why no connection misses an update: a connection subscribes to the live messages *before* it asks for
// the snapshot. A notification is published only after it is stored. So for a snapshot whose read began
// when the publish count was g, and a connection that subscribed when it was still g:
//   - what was stored before the read began is in the snapshot;
//   - what is published after the connection subscribed reaches it live;
//   - nothing was published in between (the count did not move), and what was stored in between but is
//     published later reaches it live too.
// Once anything is published, the snapshot stops being handed out and the next connection reads anew.
// Notifications stored by another replica are published here by the follower (follower.ts), up to its
// interval later, to every connection open by then: its margin covers the snapshot's age.
import type { LiveUpdates } from './live.ts';
import type { Catchup } from './readModel.ts';

interface Entry {
  generation: number;
  startedAt: number;
  value: Promise<Catchup>;
}

export class SnapshotCache {
  private entry: Entry | undefined;
  private readsSoFar = 0;

  constructor(
    private readonly read: () => Promise<Catchup>,
    private readonly live: LiveUpdates,
    /** How long after its read began a snapshot is handed out (0: never cached). */
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The snapshot for a connection that has subscribed to the live messages already. */
  get(): Promise<Catchup> {
    const { entry } = this;
    if (entry && entry.generation === this.live.generation && this.now() - entry.startedAt < this.maxAgeMs) {
      return entry.value;
    }
    const fresh: Entry = { generation: this.live.generation, startedAt: this.now(), value: this.read() };
    this.readsSoFar++;
    this.entry = fresh;
    // A failed read is not kept: the next connection tries the store again.
    fresh.value.catch(() => {
      if (this.entry === fresh) this.entry = undefined;
    });
    return fresh.value;
  }

  /** Snapshots read from the store so far. */
  get reads(): number {
    return this.readsSoFar;
  }
}
