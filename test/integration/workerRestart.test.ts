// SupervisedWorker (services/orderprocessing/src/workflow/worker.ts) on the real stack: orderprocessing's
// sidecar is killed and started again under a worker connected to it since start-up, which the SDK's own
// worker does not survive; the supervisor starts it again, and a new order completes. The stack is whole
// again when this file ends, for the files after it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, inject, it } from 'vitest';
import { call, finished, placeOrder, pollUntil, waitForOrder } from './client.ts';
import { control } from './stackControl.ts';

/** How many lines of orderprocessing's log say `message`. */
const logged = (message: string) =>
  readFileSync(join(inject('logDir'), 'orderprocessing.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes(message)).length;
const SDK_WORKER_FAILED = '[DurableTask, Worker] Worker failed';
const RECONNECTED = '"msg":"workflow worker reconnected to its sidecar"';

/**
 * Places an order as a patient client would while the sidecar comes back: a 503 is tried again, with its
 * key. Without a worker the engine takes no new workflow, and the POST waits: that fails after `timeoutMs`.
 */
async function placeOrderPatiently(order: unknown, timeoutMs = 20_000): Promise<string> {
  const headers = { 'idempotency-key': `restart-${Date.now()}` };
  const signal = AbortSignal.timeout(timeoutMs);
  for (;;) {
    const answer = await call<{ id: string }>('orderprocessing', '/orders', { body: order, headers, signal }).catch(
      (error: Error) => {
        throw new Error(`POST /orders got no answer within ${timeoutMs} ms (${error.name})`);
      },
    );
    if (answer.status === 202) return answer.body.id;
    if (answer.status !== 503) throw new Error(`POST /orders answered ${answer.status}`);
    await sleep(250);
  }
}

it("keeps the workflow worker running when orderprocessing's sidecar restarts: a new order completes", async () => {
  const completed = { status: 'COMPLETED', order_result: { success: true } };
  // The worker has been connected to this sidecar since the stack started.
  const first = await placeOrder({ customer: 'Restart', items: ['bread'], total: 3 });
  expect(await waitForOrder(first, finished)).toMatchObject(completed);
  const [failedBefore, reconnectedBefore] = [logged(SDK_WORKER_FAILED), logged(RECONNECTED)];

  await control('orderprocessing', 'daprd', 'kill');
  try {
    // The worker's stream breaks, and the SDK's worker stops for good.
    await pollUntil(
      'the SDK worker did not stop',
      async () => logged(SDK_WORKER_FAILED),
      (n) => n > failedBefore,
      10_000,
    );
  } finally {
    await control('orderprocessing', 'daprd', 'start');
  }

  const second = await placeOrderPatiently({ customer: 'Restart', items: ['bread'], total: 3 });
  expect(await waitForOrder(second, finished, 30_000)).toMatchObject(completed);
  expect(logged(RECONNECTED)).toBe(reconnectedBefore + 1);
});
