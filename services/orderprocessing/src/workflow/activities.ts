// The order workflow's activities: every side effect of an order. Each step is one call to another
// service through Dapr, and it publishes the step's own notifications (`before`, alongside the call,
// `after` it succeeded), so a step and its news cost the engine one activity, not three; it writes nothing
// else (the views are built from the events downstream). Built by a factory from their dependencies, so
// tests can hand in a fake sidecar.

import type { WorkflowActivityContext } from '@dapr/dapr';
import { type DaprHttpClient, NOTIFICATIONS_TOPIC } from '#shared/dapr.ts';
import type {
  CancelShipmentResult,
  ChargeRequest,
  Notification,
  PaymentResult,
  ReleaseResult,
  ReserveRequest,
  ReserveResult,
  ShipRequest,
  ShipResult,
} from '#shared/messages.ts';
import { classify } from './retry.ts';

export type Sidecar = Pick<DaprHttpClient, 'invoke' | 'publish'>;

/** A notification as the workflow writes it; the activity stamps the time when it publishes it. */
export type PendingNotification = Omit<Notification, 'time'>;

/** A step's request together with the notifications it publishes: before its call, and once it succeeded. */
export interface Step<Request> {
  request: Request;
  before?: PendingNotification;
  after?: PendingNotification | PendingNotification[];
}

export interface ActivityDependencies {
  dapr: Sidecar;
}

/** Work of one activity; any failure is rethrown as TransientError or PermanentError for the retry loop. */
async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classify(error);
  }
}

export function createActivities({ dapr }: ActivityDependencies) {
  /** Publishes one notification (its id is stable, so a retried step's second copy is dropped downstream). */
  async function publishNotification(news: PendingNotification | undefined): Promise<void> {
    if (!news) return;
    const notification: Notification = { ...news, time: new Date().toISOString() };
    await dapr.publish(NOTIFICATIONS_TOPIC, notification);
  }

  /**
   * The notifications of a step frame its service call: `before` goes out while the call runs (it need not
   * hold the call up: a step that fails after its call had an effect is retried or compensated anyway, and
   * the calls are idempotent), `after` once both are done, so it always follows `before`.
   */
  const step =
    <Request, Result>(
      call: (request: Request) => Promise<Result>,
      succeeded: (result: Result) => boolean = () => true,
    ) =>
    (_: WorkflowActivityContext, { request, before, after }: Step<Request>): Promise<Result> =>
      classified(async () => {
        const [, result] = await Promise.all([publishNotification(before), call(request)]);
        // In their order, each published once the one before it is.
        if (succeeded(result)) for (const news of [after ?? []].flat()) await publishNotification(news);
        return result;
      });

  return {
    notify: (_: WorkflowActivityContext, news: PendingNotification) => classified(() => publishNotification(news)),

    reserveInventory: step(
      (request: ReserveRequest) => dapr.invoke<ReserveResult>('inventory', 'reserve', request),
      (result) => result.reserved,
    ),

    releaseInventory: (_: WorkflowActivityContext, request: { orderId: string }) =>
      classified(() => dapr.invoke<ReleaseResult>('inventory', 'release', request)),

    chargePayment: step((request: ChargeRequest) => dapr.invoke<PaymentResult>('payments', 'charge', request)),

    refundPayment: (_: WorkflowActivityContext, request: { orderId: string }) =>
      classified(() => dapr.invoke<PaymentResult>('payments', 'refund', request)),

    shipOrder: step((request: ShipRequest) => dapr.invoke<ShipResult>('shipping', 'ship', request)),

    cancelShipment: (_: WorkflowActivityContext, request: { orderId: string }) =>
      classified(() => dapr.invoke<CancelShipmentResult>('shipping', 'cancel', request)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type ActivityName = keyof Activities;
export type ActivityInput<K extends ActivityName> = Parameters<Activities[K]>[1];
export type ActivityOutput<K extends ActivityName> = Awaited<ReturnType<Activities[K]>>;
