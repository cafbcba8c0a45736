// The order index (GET /orders, the watchdog's running set), as `app.orderIndex`. It closes after the
// workflow worker (plugins close in reverse order), so the steps' last deferred writes are flushed.
import fp from 'fastify-plugin';
import type { StateClient } from '#shared/state.ts';
import { OrderIndex } from '../orderIndex/orderIndex.ts';

declare module 'fastify' {
  interface FastifyInstance {
    orderIndex: OrderIndex;
  }
}

export default fp<{ store: StateClient }>(
  async (app, { store }) => {
    const index = new OrderIndex(store, {
      onBackgroundError: (error) => app.log.warn({ err: error }, 'order index: a background write failed'),
    });
    app.decorate('orderIndex', index);
    app.addHook('onClose', async () => {
      await index.flush().catch((error: unknown) => {
        app.log.warn({ err: error }, 'order index: deferred writes lost (the next steps and the watchdog repair them)');
      });
    });
  },
  { name: 'order-index' },
);
