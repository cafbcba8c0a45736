import { listenUntilSignalled } from '#shared/server.ts';
import { buildApp, loadShippingConfig } from './app.ts';

const config = loadShippingConfig();
await listenUntilSignalled(buildApp({ config }), { host: config.APP_HOST, port: config.APP_PORT });
