// The order service (../orderService.ts) as `app.orders`, over the engine and the order projection.
import fp from 'fastify-plugin';
import type { StateClient } from '#shared/state.ts';
import { type OrderConfig, retryPolicyOf } from '../config.ts';
import { OrderService } from '../orderService.ts';

declare module 'fastify' {
  interface FastifyInstance {
    orders: OrderService;
  }
}

export default fp<{ config: OrderConfig; store: StateClient }>(
  async (app, { config, store }) => {
    const settings = { approvalTimeoutMs: config.APPROVAL_TIMEOUT, retry: retryPolicyOf(config) };
    app.decorate('orders', new OrderService(app.engine, settings, store, app.orderArchive, app.orderProjection));
  },
  { name: 'order-service', dependencies: ['order-projection', 'workflow-engine'] },
);
