import { listenUntilSignalled } from '#shared/server.ts';
import { buildApp, loadInventoryConfig } from './app.ts';

const config = loadInventoryConfig();
await listenUntilSignalled(buildApp({ config }), { host: config.APP_HOST, port: config.APP_PORT });
