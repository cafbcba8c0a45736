import { listenUntilSignalled } from '#shared/server.ts';
import { buildApp, loadPaymentsConfig } from './app.ts';

const config = loadPaymentsConfig();
await listenUntilSignalled(buildApp({ config }), { host: config.APP_HOST, port: config.APP_PORT });
