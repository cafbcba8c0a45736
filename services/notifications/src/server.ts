import { listenUntilSignalled } from '#shared/server.ts';
import { buildApp, loadNotificationsConfig } from './app.ts';

const config = loadNotificationsConfig();
await listenUntilSignalled(buildApp({ config }), { host: config.APP_HOST, port: config.APP_PORT });
