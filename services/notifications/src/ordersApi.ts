// The approval API of orderprocessing, reached through our sidecar (Dapr service invocation), with the
// approver's Authorization header passed on: Dapr forwards it to the app, which checks the token.
import { DaprError, type DaprHttpClient } from '#shared/dapr.ts';
import type { OrdersApi } from './routes.ts';

export function sidecarOrdersApi(sidecar: Pick<DaprHttpClient, 'invoke'>, ordersAppId: string): OrdersApi {
  return {
    approve: (orderId, decision, authorization) =>
      sidecar.invoke<{ message?: string }>(ordersAppId, `orders/${encodeURIComponent(orderId)}/approve`, decision, {
        headers: authorization ? { authorization } : {},
      }),
    // The token that may list orders may read names: one order of the list is enough to tell.
    canRead: async (authorization) => {
      try {
        await sidecar.invoke(ordersAppId, 'orders?limit=1', undefined, {
          httpMethod: 'GET',
          headers: { authorization },
        });
        return true;
      } catch (error) {
        if (error instanceof DaprError && error.status === 401) return false;
        throw error;
      }
    },
  };
}
