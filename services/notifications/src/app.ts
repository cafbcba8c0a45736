// The notifications service: consumes topic `notifications` and shows every step of every order live.

import { fastifySSE } from '@fastify/sse';
import { loadConfig } from '#shared/config.ts';
import { createServiceApp } from '#shared/http.ts';
import { Feed } from './feed.ts';
import { registerRoutes } from './routes.ts';

export const loadNotificationsConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig({}, env);

export function buildApp({
  config,
  feed = new Feed(),
}: {
  config: ReturnType<typeof loadNotificationsConfig>;
  feed?: Feed;
}) {
  const app = createServiceApp({ name: 'notifications', logLevel: config.LOG_LEVEL });
  app.register(fastifySSE, { heartbeatInterval: 15_000 });
  app.register(async (scoped) => registerRoutes(scoped as typeof app, feed));
  return app;
}
