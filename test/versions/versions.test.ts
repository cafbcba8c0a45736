// A change of the order workflow with orders in flight, on the real stack: an order waits for approval on
// version 1; orderprocessing is stopped and started again with version 2 (whose steps differ) as the one
// new orders start on; the waiting order is approved and completes on version 1, a new order runs on 2.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from '../../scripts/lib/stack.ts';

const stack = new TestStack({
  env: { orderprocessing: { ORDER_WORKFLOW_VERSION: '1', WATCHDOG_INTERVAL: '0s' } },
  keepLogs: process.env.KEEP_TEST_LOGS === '1',
});

beforeAll(() => stack.start(), 180_000);
afterAll(() => stack.stop(), 60_000);

interface View {
  status: string;
  stage?: string;
  workflow_version?: number;
  order_result?: { success: boolean; message: string };
}

async function call<T>(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url('orderprocessing')}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function until(id: string, done: (view: View) => boolean): Promise<View> {
  for (let n = 0; n < 150; n++) {
    const view = (await call<View>(`/orders/${id}`)).body;
    if (done(view)) return view;
    await sleep(100);
  }
  throw new Error(`order ${id} did not get there`);
}

const approve = (id: string) =>
  call(`/orders/${id}/approve`, { approved: true }, { authorization: `Bearer ${stack.credentials.approvers.chris}` });
const placeBig = async () =>
  (await call<{ id: string }>('/orders', { customer: 'Version', items: ['iPhone'], total: 1500 })).body.id;

describe('an order in flight when the workflow changes', () => {
  it('finishes on the version it started on, while new orders start on the new one', async () => {
    const old = await placeBig();
    expect((await until(old, (view) => view.stage === 'waiting_for_approval')).workflow_version).toBe(1);

    stack.kill('orderprocessing', 'app');
    await stack.startProcess('orderprocessing', 0, { ORDER_WORKFLOW_VERSION: '2' });

    expect((await approve(old)).status).toBe(202);
    const finished = await until(old, (view) => view.status !== 'RUNNING');
    expect(finished).toMatchObject({ status: 'COMPLETED', workflow_version: 1, order_result: { success: true } });

    const fresh = await placeBig();
    expect((await until(fresh, (view) => view.stage === 'waiting_for_approval')).workflow_version).toBe(2);
    expect((await approve(fresh)).status).toBe(202);
    expect(await until(fresh, (view) => view.status !== 'RUNNING')).toMatchObject({
      status: 'COMPLETED',
      workflow_version: 2,
      order_result: { success: true },
    });
  }, 60_000);
});
