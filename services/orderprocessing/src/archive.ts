// What outlives an order's workflow history (which the engine purges after ORDER_HISTORY_RETENTION): the
// order as placed, in its id claim (kept for good), and how it ended, in the order projection's final
// summary (notifications keeps it as long as the id), or, for orders that ended before the projection kept
// it, in the claim. GET /orders/:id answers from them, marked archived, once the engine no longer knows it.
import type { StateClient } from '#shared/state.ts';
import type { OrderProjection } from './orderProjection.ts';
import { claimKey, type IdClaim } from './placement.ts';
import type { OrderView } from './schemas.ts';

export class OrderArchive {
  constructor(
    private readonly store: StateClient,
    private readonly projection: Pick<OrderProjection, 'final'>,
  ) {}

  /** The archived view of an order whose history is gone, when its end was recorded. */
  async find(id: string): Promise<OrderView | undefined> {
    const claim = (await this.store.getState<IdClaim>(claimKey(id))).value;
    if (!claim?.order) return undefined;
    const final = claim.final ?? (await this.projection.final(id));
    if (!final) return undefined;
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
