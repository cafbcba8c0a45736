// The stuck-order watchdog (an SLA monitor): on an interval it reads the order projection's running set
// and flags an order `stalled` (running too long, its approval wait not counted) or
// `approval_deadline_near`. Each flag is claimed with a create-only key first, so replicas never flag an
// order twice; the flag is an event, which reaches the projection like any other (README, "The stuck-order
// watchdog").
import type { FastifyBaseLogger } from 'fastify';
import prettyMs from 'pretty-ms';
import type { WatchdogFlag } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import { type IndexedOrder, type RunningEntry, runningEntryOf } from '#shared/orderProjection.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';
import type { OrderProjection } from './orderProjection.ts';

export interface WatchdogSettings {
  /** How often it looks; 0 turns it off. */
  intervalMs: number;
  stalledAfterMs: number;
  approvalWarningMs: number;
}

export const claimKey = (flag: WatchdogFlag, orderId: string) => `watchdog:${flag}:${orderId}`;
/** A flag's claim: who raised it when, and whether its event went out. */
interface FlagClaim {
  at: number;
  published?: boolean;
}

/** The flags due for an order at `now` that it does not have yet. */
export function dueFlags(watch: RunningEntry, now: number, settings: WatchdogSettings): WatchdogFlag[] {
  const raised = new Set(watch.flags ?? []);
  const due: WatchdogFlag[] = [];
  const waiting = watch.waitingSince !== undefined && watch.waitedMs === undefined;
  if (waiting && watch.deadline !== undefined && watch.waitingSince !== undefined) {
    const window = Math.min(settings.approvalWarningMs, (watch.deadline - watch.waitingSince) / 2);
    if (now >= watch.deadline - window) due.push('approval_deadline_near');
    if (now - watch.deadline >= settings.stalledAfterMs) due.push('stalled');
  } else if (!waiting && now - watch.createdAt - (watch.waitedMs ?? 0) >= settings.stalledAfterMs) {
    due.push('stalled');
  }
  return due.filter((flag) => !raised.has(flag));
}

/** "45s", "12m 30s", "3h 5m", "1d 2h": whole seconds, two units at most, so that a notification stays short. */
export function humanDuration(ms: number): string {
  return prettyMs(Math.max(0, Math.round(ms / 1000) * 1000), { unitCount: 2 });
}

/** What the notification says: what is wrong, with the numbers an operator needs. */
export function flagText(record: IndexedOrder, flag: WatchdogFlag, now: number): string {
  const deadline = record.deadline ? Date.parse(record.deadline) : undefined;
  if (flag === 'approval_deadline_near') {
    return deadline !== undefined && deadline > now
      ? `Still waiting for approval, ${humanDuration(deadline - now)} before its deadline (${record.deadline}).`
      : `Still waiting for approval after its deadline (${record.deadline}).`;
  }
  if (record.waitingSince && record.waitedMs === undefined && deadline !== undefined) {
    return `Stalled: still waiting for approval ${humanDuration(now - deadline)} after its deadline; the timer that ends the wait has not fired.`;
  }
  const running = now - Date.parse(record.createdAt) - (record.waitedMs ?? 0);
  const since = now - Date.parse(record.updatedAt);
  return `Stalled: running for ${humanDuration(running)} (not counting the approval wait); its last step, ${record.lastStep}, was ${humanDuration(since)} ago.`;
}

export interface WatchdogDeps {
  projection: OrderProjection;
  /** Where the flags are claimed (this app's state store). */
  store: StateClient;
  /**
   * The engine's own view of an order ('missing' once purged), asked before anything is flagged: an
   * order ended through Dapr directly announces no last step, and would otherwise look stuck forever.
   */
  engineStatus?: (orderId: string) => Promise<string>;
  publish: (notification: Notification) => Promise<void>;
  settings: WatchdogSettings;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  now?: () => number;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;
  private stopped = false;
  private failing = false;
  private readonly now: () => number;

  constructor(private readonly deps: WatchdogDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.deps.settings.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.check()
        .then(() => {
          this.failing = false;
        })
        .catch((error: unknown) => {
          // Once per streak: a sidecar that is away fails every round until it is back.
          if (!this.failing) this.deps.log.warn({ err: error }, 'watchdog round failed; trying again each round');
          this.failing = true;
        })
        .finally(() => {
          this.round = undefined;
          this.start();
        });
    }, this.deps.settings.intervalMs);
    this.timer.unref();
  }

  /** Stops looking, after the round under way (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One round: the flags it raised (for tests and logs). */
  async check(): Promise<Array<{ orderId: string; flag: WatchdogFlag }>> {
    const { projection, settings } = this.deps;
    const now = this.now();
    const raised: Array<{ orderId: string; flag: WatchdogFlag }> = [];
    for (const [orderId, entry] of await projection.runningOrders()) {
      if (dueFlags(entry, now, settings).length === 0) continue;
      // The running set is a shortlist: the record decides.
      const record = await projection.find(orderId);
      const running = record && !record.purged && record.status === 'RUNNING';
      const due = running ? dueFlags(runningEntryOf(record), now, settings) : [];
      if (!running || due.length === 0) {
        await projection.repairRunning(orderId);
        continue;
      }
      const engine = await this.deps.engineStatus?.(orderId);
      if (engine === 'missing') {
        await projection.markPurged(orderId);
        continue;
      }
      if (engine === 'COMPLETED' || engine === 'FAILED' || engine === 'TERMINATED') {
        await projection.markEnded(orderId, engine, now);
        this.deps.log.info({ orderId, status: engine }, 'watchdog: the engine ended this order without a last step');
        continue;
      }
      for (const flag of due) {
        if (await this.raise(record, flag, now)) raised.push({ orderId, flag });
      }
    }
    return raised;
  }

  /**
   * Claims the flag (first write wins) and publishes it: the projection notes it when the event reaches it.
   * False when another replica has it.
   */
  private async raise(record: IndexedOrder, flag: WatchdogFlag, now: number): Promise<boolean> {
    const { store, publish, settings, log } = this.deps;
    const key = claimKey(flag, record.id);
    if (!(await createIfAbsent(store, key, { at: now }))) {
      // Claimed before: by a replica that is at it now, or one that went away before it finished.
      // Published once: the event is on its way to the projection (pub/sub delivers it at least once).
      const claim = (await store.getState<FlagClaim>(key)).value;
      if (claim?.published || (claim && now - claim.at < 3 * settings.intervalMs)) return false;
    }
    await publish({
      id: `${record.id}:${flag}`,
      orderId: record.id,
      time: new Date(now).toISOString(),
      kind: flag,
      text: flagText(record, flag, now),
      customer: record.customer,
    });
    await updateState<FlagClaim, void>(store, key, () => ({ next: { at: now, published: true }, result: undefined }));
    log.info({ orderId: record.id, flag }, 'watchdog flagged an order');
    return true;
  }
}
