// The order workflow's activities: every side effect of an order, each one call to another service
// through Dapr. Built by a factory from their dependencies, so tests can hand in a fake sidecar.

import type { WorkflowActivityContext } from '@dapr/dapr';
import { type DaprHttpClient, NOTIFICATIONS_TOPIC } from '#shared/dapr.ts';
import type {
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

/** One service call; its failure is rethrown as TransientError or PermanentError for the retry loop. */
async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classify(error);
  }
}

export function createActivities({ dapr }: { dapr: Sidecar }) {
  return {
    notify: (_: WorkflowActivityContext, notification: Notification) =>
      call(() => dapr.publish(NOTIFICATIONS_TOPIC, notification)),

    reserveInventory: (_: WorkflowActivityContext, request: ReserveRequest) =>
      call(() => dapr.invoke<ReserveResult>('inventory', 'reserve', request)),

    releaseInventory: (_: WorkflowActivityContext, request: { orderId: string }) =>
      call(() => dapr.invoke<ReleaseResult>('inventory', 'release', request)),

    chargePayment: (_: WorkflowActivityContext, request: ChargeRequest) =>
      call(() => dapr.invoke<PaymentResult>('payments', 'charge', request)),

    refundPayment: (_: WorkflowActivityContext, request: { orderId: string }) =>
      call(() => dapr.invoke<PaymentResult>('payments', 'refund', request)),

    shipOrder: (_: WorkflowActivityContext, request: ShipRequest) =>
      call(() => dapr.invoke<ShipResult>('shipping', 'ship', request)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type ActivityName = keyof Activities;
export type ActivityInput<K extends ActivityName> = Parameters<Activities[K]>[1];
export type ActivityOutput<K extends ActivityName> = Awaited<ReturnType<Activities[K]>>;
