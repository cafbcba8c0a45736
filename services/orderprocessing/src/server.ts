import { listenUntilSignalled } from '#shared/server.ts';
import { buildApp, loadOrderConfig } from './app.ts';

const config = loadOrderConfig();
await listenUntilSignalled(buildApp({ config }), { host: config.APP_HOST, port: config.APP_PORT });
