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
    // An approver's or the admin's token may read names: orderprocessing says whose a token is.
    canRead: async (authorization) => {
      try {
        const me = await sidecar.invoke<{ role?: string }>(ordersAppId, 'me', undefined, {
          httpMethod: 'GET',
          headers: { authorization },
        });
        return me.role === 'approver' || me.role === 'admin';
      } catch (error) {
        if (error instanceof DaprError && error.status === 401) return false;
        throw error;
      }
    },
  };
}
