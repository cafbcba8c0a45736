// One stack for test/scale: two replicas of every app, and retentions of seconds instead of days (the
// engine keeps a finished workflow's history 2 s, the services their per-order keys 8 s).
import type { TestProject } from 'vitest/node';
import { bootstrap } from '../../scripts/bootstrap.ts';
import { TestStack } from '../../scripts/lib/stack.ts';

export const APP_IDS = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];
export const RECORD_RETENTION = '8s';
export const DECISIONS_PER_MINUTE = 20;

declare module 'vitest' {
  export interface ProvidedContext {
    scale: {
      /** Base URL of each replica of each app. */
      urls: Record<string, string[]>;
      metricsUrls: Record<string, string[]>;
      logDir: string;
      redisPort: number;
      credentials: {
        approvers: Record<string, string>;
        admin: string;
        apps: Record<string, { daprApiToken: string; appApiToken: string }>;
      };
    };
  }
}

export default async function setup(project: TestProject) {
  await bootstrap({ reuseRunning: false, chromium: false });
  const stack = new TestStack({
    replicas: Object.fromEntries(APP_IDS.map((appId) => [appId, 2])),
    orderHistoryRetention: '2s',
    env: {
      ...Object.fromEntries(APP_IDS.map((appId) => [appId, { ORDER_RECORD_RETENTION: RECORD_RETENTION }])),
      orderprocessing: {
        ORDER_RECORD_RETENTION: RECORD_RETENTION,
        APPROVAL_TIMEOUT: '1m',
        // rateLimits.test.ts: a limit low enough to reach, and clients told apart by X-Forwarded-For.
        RATE_LIMIT_DECISIONS_PER_MINUTE: String(DECISIONS_PER_MINUTE),
        TRUST_PROXY: 'loopback',
      },
      inventory: { ORDER_RECORD_RETENTION: RECORD_RETENTION, INVENTORY_STOCK: 'oranges=5' },
    },
    keepLogs: process.env.KEEP_TEST_LOGS === '1',
  });
  try {
    await stack.start();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const each = (of: (appId: string, replica: number) => string) =>
    Object.fromEntries(APP_IDS.map((appId) => [appId, [0, 1].map((replica) => of(appId, replica))]));
  const { approvers, admin, apps } = stack.credentials;
  project.provide('scale', {
    urls: each((appId, replica) => stack.url(appId, replica)),
    metricsUrls: each((appId, replica) => stack.metricsUrl(appId, replica)),
    logDir: stack.logDir,
    redisPort: stack.redisPort,
    credentials: { approvers, admin, apps },
  });
  return () => stack.stop();
}
