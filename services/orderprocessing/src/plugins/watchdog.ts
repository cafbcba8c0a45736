// The stuck-order watchdog (../watchdog.ts), looking from the moment the app listens until it closes.
import fp from 'fastify-plugin';
import { type DaprHttpClient, NOTIFICATIONS_TOPIC } from '#shared/dapr.ts';
import type { StateClient } from '#shared/state.ts';
import type { OrderConfig } from '../config.ts';
import { Watchdog } from '../watchdog.ts';

export default fp<{ config: OrderConfig; sidecar: DaprHttpClient; store: StateClient }>(
  async (app, { config, sidecar, store }) => {
    const watchdog = new Watchdog({
      projection: app.orderProjection,
      store,
      engineStatus: async (id) => (await app.engine.find(id))?.view.status ?? 'missing',
      publish: (notification) => sidecar.publish(NOTIFICATIONS_TOPIC, notification),
      settings: {
        intervalMs: config.WATCHDOG_INTERVAL,
        stalledAfterMs: config.WATCHDOG_STALLED_AFTER,
        approvalWarningMs: config.WATCHDOG_APPROVAL_WARNING,
      },
      log: app.log,
    });
    app.addHook('onListen', () => watchdog.start());
    app.addHook('onClose', () => watchdog.stop());
  },
  { name: 'watchdog', dependencies: ['order-projection', 'workflow-engine'] },
);
