// What orderprocessing keeps of its orders beside the engine: the order index (GET /orders, the watchdog's
// running set), as `app.orderIndex`, and the archive of how each ended, as `app.orderArchive`. It closes
// after the workflow worker (plugins close in reverse order), so the steps' last deferred writes go out.
import fp from 'fastify-plugin';
import type { StateClient } from '#shared/state.ts';
import { OrderArchive } from '../archive.ts';
import { OrderIndex } from '../orderIndex/orderIndex.ts';

declare module 'fastify' {
  interface FastifyInstance {
    orderIndex: OrderIndex;
    orderArchive: OrderArchive;
  }
}

export default fp<{ store: StateClient; retentionMs: number }>(
  async (app, { store, retentionMs }) => {
    const index = new OrderIndex(store, {
      retentionMs,
      onBackgroundError: (error) => app.log.warn({ err: error }, 'order index: a background write failed'),
    });
    app.decorate('orderIndex', index);
    app.decorate('orderArchive', new OrderArchive(store));
    app.addHook('onClose', async () => {
      await index.flush().catch((error: unknown) => {
        app.log.warn({ err: error }, 'order index: deferred writes lost (the next steps and the watchdog repair them)');
      });
    });
  },
  { name: 'order-index' },
);
