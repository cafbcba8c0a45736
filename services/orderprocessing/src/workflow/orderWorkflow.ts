// The order, as a durable workflow. It reads top to bottom like the story: received → reserve stock →
// approval for big orders → charge → ship. Deterministic: time comes from the context, every side effect
// is an activity, and all configuration arrives in the input. Each version (versions.ts) runs this story
// with its own features; an order replays on the version it started on. Helpers are async generators too.

import type { Task, WorkflowContext } from '@dapr/dapr';
import type { NotificationKind, ShipResult } from '#shared/messages.ts';
import type { OrderRequest, OrderResult } from '../schemas.ts';
import type { ActivityInput, ActivityName, ActivityOutput, PendingNotification } from './activities.ts';
import { callWithRetry, type RetryPolicy } from './retry.ts';
import { Saga } from './saga.ts';
import type { WorkflowTrace } from './tracing.ts';

/** What a version of the workflow does differently from the first (versions.ts names them). */
export interface WorkflowFeatures {
  /** A big order announces its approval wait with its reservation: one activity fewer. */
  waitAnnouncedWithReservation: boolean;
  /** A reserve that failed for good is undone (it may have taken effect) before the order fails. */
  failedReserveUndone: boolean;
  /** A ship that failed for good is cancelled before anything is undone, unless the goods went out. */
  lostShipmentFound: boolean;
}
export const APPROVAL_EVENT = 'approval';
/** Raised by POST /orders/:id/cancel while the order waits for approval. */
export const CANCEL_EVENT = 'cancel';
/** Orders of this total or more wait for a person's approval. */
export const APPROVAL_THRESHOLD = 1000;
export const WAITING_FOR_APPROVAL = 'waiting_for_approval';

export interface OrderInput {
  orderId: string;
  order: OrderRequest;
  approvalTimeoutMs: number;
  retry: RetryPolicy;
  /** Set when the order was placed with an Idempotency-Key: a hash of the request it was placed with. */
  requestHash?: string;
  /** The trace of the request that placed the order, which its workflow continues (see tracing.ts). */
  trace?: WorkflowTrace;
}

export interface ApprovalDecision {
  approver: string;
  approved: boolean;
}

export interface Cancellation {
  by: string;
}

/** The order failed for good (the workflow ends FAILED with this message). */
export class OrderFailed extends Error {}

type Step<T> = AsyncGenerator<Task<unknown>, T, unknown>;
/** The data fields of an event, beside those every event has. */
type EventData = Omit<PendingNotification, 'id' | 'orderId' | 'kind' | 'text' | 'customer' | 'result'>;

const dollars = (amount: number) => `$${amount}`;
const SUCCESS = 'Order processed successfully';

/** The activity's own message, without the engine's wrapping. */
function causeOf(error: unknown): string {
  const details = (error as { details?: { message?: string } }).details;
  return details?.message ?? (error as Error).message;
}

export const orderWorkflowOf = (features: WorkflowFeatures) =>
  async function* orderWorkflow(ctx: WorkflowContext, input: OrderInput): Step<OrderResult> {
    const { orderId, order } = input;
    const saga = new Saga(ctx, input.retry);

    async function* run<K extends ActivityName>(activity: K, request: ActivityInput<K>): Step<ActivityOutput<K>> {
      return yield* callWithRetry<ActivityOutput<K>>(ctx, activity, request, input.retry);
    }
    // Most notifications ride along with the step they report on (see activities.ts); `notify` publishes
    // one on its own, for the paths where no step follows.
    // Each carries its data as fields (EventData); the text says it for people. Adding a field changes no
    // step of the workflow, so it is replay-safe for every version.
    const news = (kind: NotificationKind, text: string, data: EventData = {}, result?: OrderResult) =>
      ({
        id: `${orderId}:${kind}`,
        orderId,
        kind,
        text,
        customer: order.customer,
        ...data,
        // The step that ends the order carries its result, so that its summary outlives the history.
        ...(result ? { result: { success: result.success, message: result.message } } : {}),
      }) satisfies PendingNotification;
    async function* notify(kind: NotificationKind, text: string, data?: EventData, result?: OrderResult): Step<void> {
      yield* run('notify', news(kind, text, data, result));
    }
    /** The order ends here: the last notification carries the result. */
    async function* end(kind: NotificationKind, message: string, data: EventData): Step<OrderResult> {
      const result = finish(false, message);
      yield* notify(kind, message, data, result);
      return result;
    }
    const finish = (success: boolean, message: string): OrderResult => ({ id: orderId, success, message });
    /**
     * A ship that failed may still have sent the goods, its answer lost: shipping cancels the shipment
     * unless they went out, and refuses a ship still on its way from then on. The shipment if the goods
     * went out, null once cancelled, undefined when shipping could not be asked.
     */
    async function* cancelShipment(): Step<ShipResult | null | undefined> {
      try {
        return (yield* run('cancelShipment', { orderId })).shipment;
      } catch {
        return undefined;
      }
    }

    const big = order.total >= APPROVAL_THRESHOLD;
    const waiting = (deadline: Date): PendingNotification =>
      news(
        'waiting_for_approval',
        `Waiting for approval: the total of ${dollars(order.total)} is ${dollars(APPROVAL_THRESHOLD)} or more. Deadline = ${deadline.toISOString()}`,
        { total: order.total, deadline: deadline.toISOString() },
      );
    const deadlineFromNow = () => new Date(ctx.getCurrentUtcDateTime().getTime() + input.approvalTimeoutMs);
    const announcedDeadline = big && features.waitAnnouncedWithReservation ? deadlineFromNow() : undefined;

    // 1. Received; reserve the stock. Not enough of something ends the order here, with nothing to undo.
    saga.addCompensation('releaseInventory', { orderId });
    const reserved = news('stock_reserved', `Reserved ${order.items.length} item(s) for the order.`);
    const reserving = run('reserveInventory', {
      request: { orderId, items: order.items },
      before: news(
        'received',
        `Received order for ${order.customer}: [${order.items.join(', ')}]. Total = ${order.total}`,
        { items: order.items, total: order.total },
      ),
      after: announcedDeadline ? [reserved, waiting(announcedDeadline)] : reserved,
    });
    let reservation: ActivityOutput<'reserveInventory'>;
    try {
      reservation = yield* reserving;
    } catch (error) {
      if (!features.failedReserveUndone) throw error;
      // The reserve may have taken effect before it failed for good: release it (or void it, so that a
      // reserve still on its way takes nothing), then fail the order.
      const cause = causeOf(error);
      const failure = `reservation failed: ${cause}`;
      const notUndone = yield* saga.compensate();
      const undone =
        notUndone.length === 0 ? 'Released the stock.' : 'Compensation incomplete: releaseInventory failed.';
      const data = { failedStep: 'reservation', reason: cause, undoFailed: notUndone } as const;
      yield* notify('compensated', undone, data, finish(false, failure));
      throw new OrderFailed(failure);
    }
    if (!reservation.reserved) {
      const short = reservation.short;
      return yield* end('out_of_stock', `Insufficient inventory for ${short.join(', ')}`, { short });
    }

    // 2. Big orders wait for a person (who approves, rejects or cancels), or for the deadline.
    let approved: PendingNotification | undefined;
    if (big) {
      const deadline = announcedDeadline ?? deadlineFromNow();
      if (!announcedDeadline) yield* run('notify', waiting(deadline));
      ctx.setCustomStatus(WAITING_FOR_APPROVAL);
      const approval = ctx.waitForExternalEvent(APPROVAL_EVENT);
      const cancel = ctx.waitForExternalEvent(CANCEL_EVENT);
      const timeout = ctx.createTimer(deadline);
      const winner = yield ctx.whenAny([approval, cancel, timeout]);
      ctx.setCustomStatus('');

      if (winner === cancel) {
        yield* saga.compensate();
        const by = (cancel.getResult() as Cancellation).by;
        return yield* end('cancelled', `Order was cancelled by ${by}; the stock was released.`, { approver: by });
      }
      if (winner !== approval) {
        yield* saga.compensate();
        const at = deadline.toISOString();
        return yield* end('approval_timed_out', `Approval timed out at ${at}; the stock was released.`, {
          deadline: at,
        });
      }
      const decision = approval.getResult() as ApprovalDecision;
      if (!decision.approved) {
        yield* saga.compensate();
        const text = `Order was rejected by ${decision.approver}; the stock was released.`;
        return yield* end('rejected', text, { approver: decision.approver });
      }
      approved = news('approved', `Order was approved by ${decision.approver}.`, { approver: decision.approver });
    }

    // 3. Charge, then 4. ship. A failure from here on undoes what was done and fails the order.
    let failing: 'payment' | 'shipping' = 'payment';
    try {
      saga.addCompensation('refundPayment', { orderId });
      yield* run('chargePayment', {
        request: { orderId, customer: order.customer, amount: order.total },
        before: approved,
        after: news('paid', `Charged ${dollars(order.total)}.`, { total: order.total }),
      });

      failing = 'shipping';
      yield* run('shipOrder', {
        request: { orderId, customer: order.customer, items: order.items },
        after: news('shipped', 'Order submitted for shipping', {}, finish(true, SUCCESS)),
      });
    } catch (error) {
      const cause = causeOf(error);
      const notCancelled: string[] = [];
      if (failing === 'shipping' && features.lostShipmentFound) {
        const shipment = yield* cancelShipment();
        if (shipment) {
          const text = 'Order submitted for shipping (its answer had been lost)';
          yield* notify('shipped', text, {}, finish(true, SUCCESS));
          return finish(true, SUCCESS);
        }
        if (shipment === undefined) notCancelled.push('cancelShipment');
      }
      const failed = { failedStep: failing, reason: cause } as const;
      if (failing === 'shipping') {
        yield* notify('shipping_failed', `Error submitting order for shipping: ${cause}`, failed);
      } else yield* notify('payment_failed', `Error charging the payment: ${cause}`, failed);
      const notUndone = [...notCancelled, ...(yield* saga.compensate())];
      const failure = `${failing} failed: ${cause}`;
      yield* notify(
        'compensated',
        notUndone.length === 0
          ? `${failing === 'shipping' ? `Refunded ${dollars(order.total)} and released` : 'Released'} the stock.`
          : `Compensation incomplete: ${notUndone.join(', ')} failed; see the order's history.`,
        { ...failed, undoFailed: notUndone },
        finish(false, failure),
      );
      throw new OrderFailed(failure);
    }

    return finish(true, SUCCESS);
  };
