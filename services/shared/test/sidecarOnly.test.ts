// The routes only the sidecar may call, in every spelling the router accepts: without the app token each
// answers 401 or "no such route", never the route itself. The check looks at the route the router matched,
// not at the URL as written (`POST /%6Eotifications` once reached the subscription without a token).
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp as buildInventory, loadInventoryConfig } from '../../inventory/src/app.ts';
import { buildApp as buildNotifications, loadNotificationsConfig } from '../../notifications/src/app.ts';
import { buildApp as buildPayments, loadPaymentsConfig } from '../../payments/src/app.ts';
import { buildApp as buildShipping, loadShippingConfig } from '../../shipping/src/app.ts';
import { FakeState } from './fakeState.ts';
import { pathVariants, SIDECAR_ONLY_ROUTES } from './routeSpellings.ts';

const APP_API_TOKEN = 'the-sidecars-token-for-its-app';
const env = { APP_PORT: '3999', LOG_LEVEL: 'silent', APP_API_TOKEN, ADMIN_TOKEN: 'an-operators-token-0123456789' };

type App = { inject: (options: object) => Promise<{ statusCode: number; body: string }>; close(): Promise<unknown> };
const builders: Record<string, () => App> = {
  inventory: () => buildInventory({ config: loadInventoryConfig(env), state: new FakeState() }),
  payments: () => buildPayments({ config: loadPaymentsConfig(env), state: new FakeState() }),
  shipping: () => buildShipping({ config: loadShippingConfig(env), state: new FakeState() }),
  notifications: () => buildNotifications({ config: loadNotificationsConfig(env), store: new FakeState() }),
};

const opened: App[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

describe.each(Object.entries(SIDECAR_ONLY_ROUTES))('%s', (name, routes) => {
  it.each(routes)('%s %s answers nothing without the app token, however the path is spelled', async (method, path) => {
    const app = builders[name]?.() ?? expect.unreachable(`no app ${name}`);
    opened.push(app);
    const served: string[] = [];
    for (const url of [path, ...pathVariants(path)]) {
      const answer = await app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
      if (![401, 404].includes(answer.statusCode)) served.push(`${url} → ${answer.statusCode} ${answer.body}`);
    }
    expect(served).toEqual([]);
  });
});
