// `npm run record:histories`: the workflow histories of real orders of every path, recorded from the real
// stack for every version of the order workflow, as the fixtures of the replay tests (test/replay). Run it
// again after adding a version: it records the versions that have no fixtures yet, since a version's
// fixtures never change once orders run on it (`-- --version 3` records that one again).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  versionNumbered,
  WORKFLOW_VERSIONS,
  type WorkflowVersion,
} from '../services/orderprocessing/src/workflow/versions.ts';
import { fetchHistory, historyEventType } from '../services/shared/src/daprSdk.ts';
import { bootstrap } from './bootstrap.ts';
import { repoRoot } from './lib/runtime.ts';
import { TestStack } from './lib/stack.ts';
import { info, main, ScriptError, step } from './lib/ui.ts';

export const FIXTURES = join(repoRoot, 'test', 'replay', 'fixtures');

const stack = new TestStack({
  env: {
    orderprocessing: {
      APPROVAL_TIMEOUT: '3s',
      RETRY_MAX_ATTEMPTS: '6',
      RETRY_INITIAL_DELAY: '300ms',
      RETRY_MAX_DELAY: '1s',
      RETRY_MAX_ELAPSED: '4s',
      WATCHDOG_INTERVAL: '0s',
    },
    inventory: { INVENTORY_STOCK: 'oranges=0' },
    // The ship of the customer "ReplayLost" takes effect and answers 503 (its answer lost): lost_shipment.
    shipping: { FAULTS: 'ship:503+done@order_replaylost_' },
  },
});

async function call<T>(appId: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url(appId)}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
}

interface View {
  status: string;
  stage?: string;
  order_result?: unknown;
}

async function until(id: string, done: (view: View) => boolean): Promise<View> {
  for (let n = 0; n < 200; n++) {
    const view = await call<View>('orderprocessing', `/orders/${id}`);
    if (done(view)) return view;
    await sleep(100);
  }
  throw new ScriptError(`order ${id} did not get there`);
}
const finished = (view: View) => ['COMPLETED', 'FAILED', 'TERMINATED'].includes(view.status);
const waiting = (view: View) => view.stage === 'waiting_for_approval';

const approver = () => ({ authorization: `Bearer ${stack.credentials.approvers.chris}` });
const admin = () => ({ authorization: `Bearer ${stack.credentials.admin}` });
const place = async (customer: string, items: string[], total: number) =>
  (await call<{ id: string }>('orderprocessing', '/orders', { customer, items, total })).id;
const big = (customer: string) => place(customer, ['iPhone'], 1500);

/** Every path an order can take, each leaving a finished order: its id (lost_shipment from version 3). */
const PATHS: Record<string, (version: WorkflowVersion) => Promise<string | undefined>> = {
  auto: () => place('Replay', ['milk'], 2),
  approved: async () => {
    const id = await big('Replay');
    await until(id, waiting);
    await call('orderprocessing', `/orders/${id}/approve`, { approved: true }, approver());
    return id;
  },
  rejected: async () => {
    const id = await big('Replay');
    await until(id, waiting);
    await call('orderprocessing', `/orders/${id}/approve`, { approved: false }, approver());
    return id;
  },
  timed_out: async () => big('Replay'),
  cancelled: async () => {
    const id = await big('Replay');
    await until(id, waiting);
    await call('orderprocessing', `/orders/${id}/cancel`, {}, approver());
    return id;
  },
  out_of_stock: () => place('Replay', ['oranges'], 2),
  shipping_failure: async () => {
    await call('shipping', '/shipping/deactivate', {}, admin());
    const id = await place('Replay', ['milk'], 2);
    await until(id, finished);
    await call('shipping', '/shipping/activate', {}, admin());
    return id;
  },
  retried_step: async () => {
    // Shipping refuses the first tries, then comes back: the ship step succeeds on a retry.
    await call('shipping', '/shipping/deactivate', {}, admin());
    const id = await place('Replay', ['milk'], 2);
    await sleep(700);
    await call('shipping', '/shipping/activate', {}, admin());
    return id;
  },
  lost_shipment: async (version) => (version.features.lostShipmentFound ? place('ReplayLost', ['milk'], 2) : undefined),
};

/** The versions to record: the one named by --version, else those without fixtures. */
function versionsToRecord(): WorkflowVersion[] {
  const { values } = parseArgs({ options: { version: { type: 'string' } } });
  if (values.version) return [versionNumbered(Number(values.version))];
  return WORKFLOW_VERSIONS.filter((version) => !existsSync(join(FIXTURES, `v${version.version}`)));
}

main(async () => {
  const versions = versionsToRecord();
  if (versions.length === 0) {
    info('every version has its fixtures already (-- --version N records one again)');
    return;
  }
  await bootstrap({ reuseRunning: false, chromium: false });
  await step('starting a stack', () => stack.start());
  try {
    const { daprGrpcPort } = stack.endpoints('orderprocessing');
    for (const version of versions) {
      await step(`orderprocessing on version ${version.version} (${version.name})`, async () => {
        await stack.kill('orderprocessing', 'app');
        await stack.startProcess('orderprocessing', 0, { ORDER_WORKFLOW_VERSION: String(version.version) });
      });
      const dir = join(FIXTURES, `v${version.version}`);
      mkdirSync(dir, { recursive: true });
      for (const [path, run] of Object.entries(PATHS)) {
        const id = await run(version);
        if (!id) continue;
        const view = await until(id, finished);
        const history = await fetchHistory(
          `127.0.0.1:${daprGrpcPort}`,
          stack.credentials.apps.orderprocessing?.daprApiToken,
          id,
        );
        const events = history.map((bytes) => ({
          type: historyEventType(bytes),
          base64: Buffer.from(bytes).toString('base64'),
        }));
        const fixture = {
          output: view.order_result ?? null,
          path,
          version: version.version,
          name: version.name,
          orderId: id,
          status: view.status,
          events,
        };
        writeFileSync(join(dir, `${path}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
        info(`  ${path}: ${id} ${view.status}, ${events.length} events`);
      }
    }
  } finally {
    await stack.stop();
  }
});
