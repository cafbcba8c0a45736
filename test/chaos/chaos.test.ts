// Crash-proof orders, proven on the real runtime: orders flow while the orderprocessing app, its daprd,
// the payments, inventory and notifications apps are killed with SIGKILL and restarted at random moments. Then
// every order must reach its expected end, the ledger must be exact, stock conserved, and every order's
// timeline must hold each step once. `npm test` runs a short form; `npm run test:chaos` the full one.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestStack } from '../integration/stack.ts';

const ORDERS = Number(process.env.CHAOS_ORDERS ?? 12);
const KILLS = Number(process.env.CHAOS_KILLS ?? 4);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const INITIAL_STOCK = { milk: 1000, bread: 1000, apples: 1000, oranges: 1000, iPhone: 1000 };

/** A small seeded generator, so that a failing run can be repeated with CHAOS_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}
const rand = random(SEED);
const between = (low: number, high: number) => low + rand() * (high - low);

type Kind = 'auto' | 'approved' | 'rejected' | 'shippingFailure';
interface Planned {
  kind: Kind;
  id: string;
  items: string[];
  total: number;
}

const expectedSteps: Record<Kind, string[]> = {
  auto: ['received', 'stock_reserved', 'paid', 'shipped'],
  approved: ['received', 'stock_reserved', 'waiting_for_approval', 'approved', 'paid', 'shipped'],
  rejected: ['received', 'stock_reserved', 'waiting_for_approval', 'rejected'],
  shippingFailure: [
    'received',
    'stock_reserved',
    'waiting_for_approval',
    'approved',
    'paid',
    'shipping_failed',
    'compensated',
  ],
};
const expectedLedger: Record<Kind, string[]> = {
  auto: ['charge'],
  approved: ['charge'],
  rejected: [],
  shippingFailure: ['charge', 'refund'],
};

const stack = new TestStack({
  env: {
    orderprocessing: {
      APPROVAL_TIMEOUT: '10m',
      // Services are down for seconds at a time here: retry for longer than in production defaults.
      RETRY_MAX_ATTEMPTS: '12',
      RETRY_INITIAL_DELAY: '250ms',
      RETRY_MAX_DELAY: '2s',
      RETRY_MAX_ELAPSED: '25s',
    },
    inventory: {
      INVENTORY_STOCK: Object.entries(INITIAL_STOCK)
        .map(([item, count]) => `${item}=${count}`)
        .join(','),
    },
  },
  keepLogs: process.env.KEEP_TEST_LOGS === '1',
});

/** Who presents which token: approvals as chris, the shipping toggles as admin, the rest as the sidecar. */
function credentialsFor(appId: string, path: string): Record<string, string> {
  const { approvers, admin, appApiToken } = stack.credentials;
  if (path.endsWith('/approve')) return { authorization: `Bearer ${approvers.chris}` };
  if (path.startsWith('/shipping/') && path.endsWith('activate')) return { authorization: `Bearer ${admin}` };
  return appId === 'orderprocessing' || appId === 'notifications' ? {} : { 'dapr-api-token': appApiToken };
}

async function api<T>(appId: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${stack.url(appId)}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...credentialsFor(appId, path),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      if (response.status >= 500 && attempt < 60) throw new Error(`HTTP ${response.status}`);
      return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
    } catch (error) {
      // The app may be down right now: that is the point. Try again shortly.
      if (attempt >= 60) throw error;
      await sleep(500);
    }
  }
}

interface OrderView {
  status: string;
  stage?: string;
  order_result?: { success: boolean };
}
const getOrder = async (id: string) => (await api<OrderView>('orderprocessing', `/orders/${id}`)).body;

const killed: Record<string, number> = {};
const recoveries: number[] = [];
let chaosRunning = true;

async function chaos(): Promise<void> {
  const targets: [string, 'app' | 'daprd'][] = [
    ['orderprocessing', 'app'],
    ['orderprocessing', 'daprd'],
    ['payments', 'app'],
    ['inventory', 'app'],
    ['notifications', 'app'],
  ];
  for (let n = 0; n < KILLS && chaosRunning; n++) {
    await sleep(between(1000, 3000));
    const [appId, part] = targets[Math.floor(rand() * targets.length)] as [string, 'app' | 'daprd'];
    stack.kill(appId, part);
    const name = `${appId} ${part}`;
    killed[name] = (killed[name] ?? 0) + 1;
    await sleep(between(300, 1500));
    const began = Date.now();
    await (part === 'app' ? stack.startProcess(appId) : stack.startDaprd(appId));
    recoveries.push(Date.now() - began);
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

beforeAll(async () => {
  await stack.start();
}, 180_000);

afterAll(async () => {
  chaosRunning = false;
  await stack.stop();
}, 60_000);

it(`${ORDERS} orders survive ${KILLS} kill -9s with nothing lost or doubled (seed ${SEED})`, async () => {
  const began = Date.now();
  const kinds: Kind[] = ['auto', 'approved', 'rejected', 'shippingFailure'];
  const planned: Planned[] = [];
  const chaosDone = chaos();

  for (let n = 0; n < ORDERS; n++) {
    const kind = kinds[n % kinds.length] as Kind;
    const items = kind === 'auto' ? ['milk', 'bread'] : ['iPhone', 'apples'];
    const total = kind === 'auto' ? 9.5 : 1500;
    const answer = await api<{ id: string }>('orderprocessing', '/orders', { customer: `chaos${n}`, items, total });
    expect(answer.status).toBe(202);
    planned.push({ kind, id: answer.body.id, items, total });
    await sleep(between(50, 300));
  }

  const decide = async (kinds: Kind[], approved: boolean) => {
    for (const order of planned.filter((o) => kinds.includes(o.kind))) {
      await waitUntil(
        `${order.id} waiting`,
        async () => (await getOrder(order.id)).stage === 'waiting_for_approval',
        120_000,
      );
      const answer = await api('orderprocessing', `/orders/${order.id}/approve`, { approved });
      expect(answer.status).toBe(202);
    }
  };
  const terminal = (status: string) => ['COMPLETED', 'FAILED', 'TERMINATED'].includes(status);
  const settle = (orders: Planned[]) =>
    waitUntil(
      'all orders finishing',
      async () => (await Promise.all(orders.map((o) => getOrder(o.id)))).every((o) => terminal(o.status)),
      180_000,
    );

  await decide(['approved'], true);
  await decide(['rejected'], false);
  await settle(planned.filter((o) => o.kind !== 'shippingFailure'));

  // The shipping failures: approved while shipping is in maintenance.
  expect((await api('shipping', '/shipping/deactivate', {})).status).toBe(200);
  await decide(['shippingFailure'], true);
  await settle(planned);
  await api('shipping', '/shipping/activate', {});
  chaosRunning = false;
  await chaosDone;

  // The report, then the checks.
  const problems: string[] = [];
  const consumed: Record<string, number> = {};
  for (const order of planned) {
    const view = await getOrder(order.id);
    const wantStatus = order.kind === 'shippingFailure' ? 'FAILED' : 'COMPLETED';
    const wantSuccess = order.kind === 'auto' || order.kind === 'approved';
    if (view.status !== wantStatus) problems.push(`${order.id} (${order.kind}) is ${view.status}, not ${wantStatus}`);
    if (wantStatus === 'COMPLETED' && view.order_result?.success !== wantSuccess) {
      problems.push(`${order.id} (${order.kind}) success is ${view.order_result?.success}`);
    }
    if (wantSuccess) for (const item of order.items) consumed[item] = (consumed[item] ?? 0) + 1;

    const ledger = (await api<{ entries: { kind: string }[] }>('payments', `/payments/${order.id}`)).body.entries;
    const kinds = ledger.map((entry) => entry.kind);
    if (JSON.stringify(kinds) !== JSON.stringify(expectedLedger[order.kind])) {
      problems.push(`${order.id} (${order.kind}) ledger is [${kinds}], not [${expectedLedger[order.kind]}]`);
    }

    const want = expectedSteps[order.kind];
    let steps: string[] = [];
    await waitUntil(
      `${order.id} timeline`,
      async () => {
        const timeline = await api<{ events: { kind: string }[] }>('notifications', `/api/orders/${order.id}/timeline`);
        steps = timeline.body.events.map((event) => event.kind);
        return steps.length >= want.length;
      },
      15_000,
    ).catch(() => undefined);
    if (JSON.stringify([...steps].sort()) !== JSON.stringify([...want].sort())) {
      problems.push(`${order.id} (${order.kind}) timeline is [${steps}], not [${want}]`);
    }
  }
  const stock = (await api<{ stock: Record<string, number> }>('inventory', '/inventory')).body.stock;
  for (const [item, initial] of Object.entries(INITIAL_STOCK)) {
    const want = initial - (consumed[item] ?? 0);
    if (stock[item] !== want)
      problems.push(`stock of ${item} is ${stock[item]}, not ${initial} − ${consumed[item] ?? 0} = ${want}`);
  }

  const report = [
    `chaos report (seed ${SEED})`,
    `  orders: ${ORDERS} (${kinds.map((kind) => `${planned.filter((o) => o.kind === kind).length} ${kind}`).join(', ')})`,
    `  kills: ${
      Object.entries(killed)
        .map(([name, count]) => `${name} ×${count}`)
        .join(', ') || 'none'
    }`,
    `  recovery (restart to healthy): ${recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '-'}`,
    `  wall time: ${((Date.now() - began) / 1000).toFixed(1)} s`,
    `  problems: ${problems.length === 0 ? 'none: nothing lost, nothing doubled' : `\n    ${problems.join('\n    ')}`}`,
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
  expect(problems).toEqual([]);
}, 600_000);
