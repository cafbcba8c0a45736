// The approval API of orderprocessing, reached through our sidecar (Dapr service invocation), with the
// approver's Authorization header passed on: Dapr forwards it to the app, which checks the token.
import type { DaprHttpClient } from '#shared/dapr.ts';
import type { OrdersApi } from './routes.ts';

export function sidecarOrdersApi(sidecar: Pick<DaprHttpClient, 'invoke'>, ordersAppId: string): OrdersApi {
  return {
    approve: (orderId, decision, authorization) =>
      sidecar.invoke<{ message?: string }>(ordersAppId, `orders/${encodeURIComponent(orderId)}/approve`, decision, {
        headers: authorization ? { authorization } : {},
      }),
  };
}
