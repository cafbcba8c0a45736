// npm start's path through the real Dapr CLI, in one smoke test: `dapr run -f` on dapr.yaml (written again
// with ports, resources and a placement of this test's own, so that a running `npm start` is not touched)
// brings up the five apps and their sidecars; an order goes through them all and reaches the page's
// timeline; stopping the CLI stops every app and sidecar it started.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isListening } from '../../scripts/lib/proc.ts';
import { TestStack } from '../../scripts/lib/stack.ts';

const stack = new TestStack({ viaCli: true, keepLogs: process.env.KEEP_TEST_LOGS === '1' });
const APPS = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];

beforeAll(() => stack.start(), 180_000);
afterAll(() => stack.stop(), 60_000);

async function get<T>(appId: string, path: string): Promise<T> {
  return (await (await fetch(`${stack.url(appId)}${path}`)).json()) as T;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let n = 0; n < 200; n++) {
    const value = await read();
    if (done(value)) return value;
    await sleep(100);
  }
  throw new Error(`${what} did not happen within 20 s`);
}

it('runs the five apps and their sidecars; an order completes and reaches the page; stop stops them all', async () => {
  const placed = await fetch(`${stack.url('orderprocessing')}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: 'Cli', items: ['milk', 'bread'], total: 7 }),
  });
  expect(placed.status).toBe(202);
  const { id } = (await placed.json()) as { id: string };

  const order = await until(
    `order ${id} completing`,
    () => get<{ status: string }>('orderprocessing', `/orders/${id}`),
    (view) => view.status !== 'RUNNING' && view.status !== 'PENDING',
  );
  expect(order.status).toBe('COMPLETED');
  const events = await until(
    `${id}'s timeline`,
    () => get<{ events: { kind: string }[] }>('notifications', `/api/orders/${id}/timeline`),
    (timeline) => timeline.events.some((event) => event.kind === 'shipped'),
  );
  expect(events.events.map((event) => event.kind)).toEqual(['received', 'stock_reserved', 'paid', 'shipped']);

  const ports = APPS.flatMap((appId) => {
    const { appPort, daprHttpPort, daprGrpcPort } = stack.endpoints(appId);
    return [appPort, daprHttpPort, daprGrpcPort];
  });
  expect(await Promise.all(ports.map((port) => isListening(port)))).toEqual(ports.map(() => true));
  await stack.stop();
  expect(await Promise.all(ports.map((port) => isListening(port)))).toEqual(ports.map(() => false));
}, 60_000);
