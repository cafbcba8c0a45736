// The order projection's API between notifications, which builds it from topic `notifications`, and
// orderprocessing, which reads it through Dapr service invocation (GET /orders, the watchdog, the archive of
// a purged history) and tells it what no event says (an order purged, or ended through Dapr directly). One
// zod schema per message; the routes are sidecar-only on notifications' side (docs/architecture.md).
import { z } from 'zod';
import { STEP_KINDS, WATCHDOG_FLAGS } from './lifecycle.ts';
import { OrderId } from './messages.ts';

/** As the workflow ends; TERMINATED only when someone ended it through Dapr directly (no step says so). */
export const IndexedStatus = z.enum(['RUNNING', 'COMPLETED', 'FAILED', 'TERMINATED']);
export type IndexedStatus = z.infer<typeof IndexedStatus>;

/** An order as the index lists it: derived from its timeline by the lifecycle (never stored on its own). */
export const IndexedOrder = z.object({
  id: OrderId,
  customer: z.string(),
  /** The time of the order's first step (`received`); the list is ordered by it. */
  createdAt: z.iso.datetime(),
  /** The time of its latest step. */
  updatedAt: z.iso.datetime(),
  lastStep: z.enum(STEP_KINDS),
  status: IndexedStatus,
  /** While waiting for approval (and after): when the order is released unless someone approves it. */
  deadline: z.iso.datetime().optional(),
  /** When the approval wait began. */
  waitingSince: z.iso.datetime().optional(),
  /** How long the approval wait lasted, once it is over (the watchdog does not count it as running). */
  waitedMs: z.number().optional(),
  /** What the watchdog raised about the order. */
  flags: z.array(z.enum(WATCHDOG_FLAGS)).optional(),
  /** Its workflow history was purged (DELETE /orders/:id): the list leaves it out. */
  purged: z.boolean().optional(),
});
export type IndexedOrder = z.infer<typeof IndexedOrder>;

/**
 * An entry of the running set: what the watchdog needs to tell, without reading the record, whether the
 * order may be due (times in ms). The record stays the truth, and the watchdog checks it before it flags.
 */
export const RunningEntry = z.object({
  createdAt: z.number(),
  deadline: z.number().optional(),
  waitingSince: z.number().optional(),
  waitedMs: z.number().optional(),
  flags: z.array(z.enum(WATCHDOG_FLAGS)).optional(),
});
export type RunningEntry = z.infer<typeof RunningEntry>;
/** The running-set entry that a record implies (to repair one that went stale, and for the watchdog). */
export function runningEntryOf(record: IndexedOrder): RunningEntry {
  const ms = (iso: string) => Date.parse(iso);
  const waitOver = record.waitedMs !== undefined;
  return {
    createdAt: ms(record.createdAt),
    ...(record.waitingSince ? { waitingSince: ms(record.waitingSince) } : {}),
    ...(record.deadline && !waitOver ? { deadline: ms(record.deadline) } : {}),
    ...(waitOver ? { waitedMs: record.waitedMs } : {}),
    ...(record.flags?.length ? { flags: [...record.flags] } : {}),
  };
}

export const RunningOrders = z.object({ orders: z.array(z.tuple([OrderId, RunningEntry])) });

/** Where a page ended: the creation time and id of its last order (pages go from newest to oldest). */
export const Position = z.object({ at: z.number().int().min(0), id: z.string().max(200) });
export type Position = z.infer<typeof Position>;

/** GET /orders, as orderprocessing passes it on (its own route checked the caller and the filters). */
export const ListRequest = z.strictObject({
  status: IndexedStatus.optional(),
  lastStep: z.enum(STEP_KINDS).optional(),
  /** Compared without regard to case. */
  customer: z.string().max(64).optional(),
  /** Created at or after (ms). */
  from: z.number().optional(),
  /** Created before (ms). */
  to: z.number().optional(),
  limit: z.number().int().min(1).max(100),
  after: Position.optional(),
});
export type ListRequest = z.infer<typeof ListRequest>;

export const ListPage = z.object({
  orders: z.array(IndexedOrder),
  /** Where the next page starts; absent when nothing older is indexed. */
  next: Position.optional(),
});
export type ListPage = z.infer<typeof ListPage>;

/** How an order ended, kept for good: GET /orders/:id answers from it once the engine purged the history. */
export const FinalSummary = z.object({
  status: z.enum(['COMPLETED', 'FAILED']),
  /** When it ended (ISO 8601). */
  at: z.string(),
  success: z.boolean(),
  message: z.string(),
});
export type FinalSummary = z.infer<typeof FinalSummary>;

/**
 * POST /projection/orders/:id/purged: how the order ended, as the engine has it, kept as its final summary
 * unless its last step's already is (which wins), so a purge never outruns the archive.
 */
export const PurgedRequest = z.strictObject({ final: FinalSummary.optional() });
export type PurgedRequest = z.infer<typeof PurgedRequest>;

/** An order the engine ended without a last step (terminated through Dapr directly), as the watchdog found. */
export const EndedRequest = z.strictObject({ status: z.enum(['COMPLETED', 'FAILED', 'TERMINATED']), at: z.number() });
