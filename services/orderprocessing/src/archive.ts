// What outlives an order's workflow history (which the engine purges after ORDER_HISTORY_RETENTION): the
// step that ends an order writes its final summary into the order's id claim, which is kept for good. GET
// /orders/:id answers from it, marked archived, once the engine no longer knows the order.
import { endingOf } from '#shared/lifecycle.ts';
import type { Notification } from '#shared/messages.ts';
import { type StateClient, updateState } from '#shared/state.ts';
import { claimKey, type FinalSummary, type IdClaim } from './placement.ts';
import type { OrderView } from './schemas.ts';

export class OrderArchive {
  constructor(private readonly store: StateClient) {}

  /** Notes how the order ended, once (a repeated last step changes nothing); other steps are ignored. */
  async record(notification: Notification): Promise<void> {
    const status = endingOf(notification.kind);
    const result = notification.result;
    if (!result || !status) return;
    const final: FinalSummary = { status, at: notification.time, ...result };
    await updateState<IdClaim, void>(this.store, claimKey(notification.orderId), (claim) =>
      claim && !claim.final ? { next: { ...claim, final }, result: undefined } : { result: undefined },
    );
  }

  /** The archived view of an order whose history is gone, when its end was recorded. */
  async find(id: string): Promise<OrderView | undefined> {
    const claim = (await this.store.getState<IdClaim>(claimKey(id))).value;
    if (!claim?.final || !claim.order) return undefined;
    const { final } = claim;
    return {
      id,
      status: final.status,
      created_time: new Date(claim.at).toISOString(),
      last_updated_time: final.at,
      details: claim.order,
      ...(final.status === 'COMPLETED'
        ? { order_result: { id, success: final.success, message: final.message } }
        : { failure_details: { error_type: 'OrderFailed', message: final.message } }),
      archived: true,
    };
  }
}
