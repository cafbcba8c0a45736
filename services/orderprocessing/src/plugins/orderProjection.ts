// What orderprocessing reads of its orders beside the engine: the order projection (GET /orders, the
// watchdog's running set), which the notifications service builds from the events, as `app.orderProjection`,
// and the archive of how each ended (for orders whose history is purged), as `app.orderArchive`.
import fp from 'fastify-plugin';
import type { DaprHttpClient } from '#shared/dapr.ts';
import type { StateClient } from '#shared/state.ts';
import { OrderArchive } from '../archive.ts';
import { type OrderProjection, SidecarOrderProjection } from '../orderProjection.ts';

declare module 'fastify' {
  interface FastifyInstance {
    orderProjection: OrderProjection;
    orderArchive: OrderArchive;
  }
}

export interface OrderProjectionOptions {
  store: StateClient;
  sidecar: DaprHttpClient;
  /** A projection of the test's own; defaults to notifications' through the sidecar. */
  projection?: OrderProjection | undefined;
  /** The app that builds the projection. */
  appId: string;
}

export default fp<OrderProjectionOptions>(
  async (app, { store, sidecar, projection, appId }) => {
    const orders = projection ?? new SidecarOrderProjection(sidecar, appId);
    app.decorate('orderProjection', orders);
    app.decorate('orderArchive', new OrderArchive(store, orders));
  },
  { name: 'order-projection' },
);
