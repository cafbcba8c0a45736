// Starts one real stack for all integration test files and stops it afterwards, also on failure.
import type { TestProject } from 'vitest/node';
import { bootstrap } from '../../scripts/bootstrap.ts';
import { type AppEndpoints, TestStack } from '../../scripts/lib/stack.ts';
import { serveStackControl } from './stackControl.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    apps: Record<string, AppEndpoints>;
    logDir: string;
    /** The stack's private Zipkin. */
    zipkinUrl: string;
    /** Approvers', admin and each app's own tokens (DAPR_API_TOKEN, APP_API_TOKEN), by app id. */
    credentials: {
      approvers: Record<string, string>;
      admin: string;
      apps: Record<string, { daprApiToken: string; appApiToken: string }>;
    };
    /** Where a test kills and starts the stack's processes (stackControl.ts): the integration stack only. */
    stackControl: string;
  }
}

/** The customers whose orders meet the faults of TEST_ENV (FAULTS, services/shared/src/faults.ts), by their ids' prefix. */
export const FAULTY = {
  declined: 'order_declined_',
  unreleased: 'order_unreleased_',
  // lateEffects.test.ts: a call that takes effect though its answer is lost, or after its caller gave up.
  reserveLost: 'order_reservelost_',
  reserveLate: 'order_reservelate_',
  chargeLate: 'order_chargelate_',
  shipLost: 'order_shiplost_',
  shipLate: 'order_shiplate_',
  // earlyDecision.test.ts: an order still reserving its stock when its decision comes.
  early: 'order_early_',
};
/** Longer than an order takes to give up a step and undo it (RETRY_MAX_ELAPSED and a little more). */
export const LATE = '7s';

/** Short waits so the approval-timeout and shipping-failure paths finish within a test. */
export const TEST_ENV = {
  orderprocessing: {
    APPROVAL_TIMEOUT: '6s',
    RETRY_MAX_ATTEMPTS: '5',
    RETRY_INITIAL_DELAY: '200ms',
    RETRY_MAX_DELAY: '1s',
    RETRY_MAX_ELAPSED: '5s',
    // The watchdog looks often. No order of the other tests runs for 10 s outside its approval wait (a
    // shipping failure ends within 3 s); an order left waiting for approval over 3 s of its 6 s is warned
    // of, which only the approval-timeout tests do, and they do not count notifications.
    WATCHDOG_INTERVAL: '250ms',
    WATCHDOG_STALLED_AFTER: '10s',
    WATCHDOG_APPROVAL_WARNING: '3s',
  },
  // Few oranges, so that parallel orders compete for the last units. Orders of the customer "Unreleased"
  // cannot give their stock back, and those of "Declined" and "Unreleased" are never charged (failures.test.ts);
  // the calls of the FAULTY late and lost ones take effect unseen (lateEffects.test.ts).
  inventory: {
    INVENTORY_STOCK: 'oranges=5',
    FAULTS: `release:422@${FAULTY.unreleased},reserve:503+done@${FAULTY.reserveLost},reserve:503+late=${LATE}@${FAULTY.reserveLate},reserve:delay=1500ms@${FAULTY.early}`,
  },
  payments: {
    FAULTS: `charge:422@${FAULTY.declined},charge:422@${FAULTY.unreleased},charge:503+late=${LATE}@${FAULTY.chargeLate}`,
  },
  shipping: { FAULTS: `ship:503+done@${FAULTY.shipLost},ship:503+late=${LATE}@${FAULTY.shipLate}` },
};

/** Starts the stack (stopped again if it fails to) and gives the tests its endpoints and tokens. */
export async function startStackFor(project: TestProject, stack: TestStack): Promise<void> {
  try {
    await stack.start();
  } catch (error) {
    process.stderr.write(`test stack failed to start; logs in ${stack.logDir}\n`);
    await stack.stop();
    throw error;
  }
  project.provide('apps', stack.allEndpoints());
  project.provide('logDir', stack.logDir);
  project.provide('zipkinUrl', stack.zipkinUrl ?? '');
  const { approvers, admin, apps } = stack.credentials;
  project.provide('credentials', { approvers, admin, apps });
}

export default async function setup(project: TestProject) {
  await bootstrap({ reuseRunning: false, chromium: false });
  const stack = new TestStack({ env: TEST_ENV, keepLogs: process.env.KEEP_TEST_LOGS === '1', tracing: true });
  await startStackFor(project, stack);
  const control = await serveStackControl(stack);
  project.provide('stackControl', control.url);
  return async () => {
    control.close();
    await stack.stop();
  };
}
