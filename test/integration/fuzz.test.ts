// Schema-driven fuzzing of every public endpoint on the real stack: over a thousand generated bodies,
// mostly wrong in some way, and not one answer of 500 or more. Then the stack still takes orders.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { PUBLIC_ROUTES, pathVariants, SIDECAR_ONLY_ROUTES } from '../../services/shared/test/routeSpellings.ts';
import { call, finished, placeOrder, rawCall, waitForOrder } from './client.ts';

const anything = fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true });
const item = fc.oneof(fc.constantFrom('milk', 'bread', 'apples', 'oranges', 'iPhone'), fc.string());
const orderish = fc.record(
  {
    customer: fc.oneof(fc.string({ maxLength: 80 }), anything),
    items: fc.oneof(fc.array(item, { maxLength: 60 }), anything),
    total: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 1e7, 12.345, Number.NaN), anything),
    // A computed key: a literal __proto__ would set the prototype instead of adding a key.
    ['__proto__']: anything,
    constructor: anything,
    extra: anything,
  },
  { requiredKeys: [] },
);
const approvalish = fc.record(
  { approver: fc.oneof(fc.string(), anything), approved: fc.oneof(fc.boolean(), anything), extra: anything },
  { requiredKeys: [] },
);
const rawText = fc.oneof(fc.string(), fc.json(), fc.constantFrom('{', '{"customer":', 'null', '[]', '"x"'));

it('answers 1,200 generated requests to every public endpoint without a single 5xx', async () => {
  const statuses: number[] = [];
  const record = async (answer: Promise<{ status: number }>) => statuses.push((await answer).status);

  await fc.assert(
    fc.asyncProperty(orderish, async (body) => {
      await record(call('orderprocessing', '/orders', { body }));
    }),
    { numRuns: 500 },
  );
  await fc.assert(
    fc.asyncProperty(rawText, async (text) => {
      await record(call('orderprocessing', '/orders', { rawBody: text }));
    }),
    { numRuns: 300 },
  );
  await fc.assert(
    fc.asyncProperty(approvalish, fc.string({ maxLength: 40 }), async (body, id) => {
      await record(call('orderprocessing', `/orders/${encodeURIComponent(id)}/approve`, { body, as: 'chris' }));
      await record(call('orderprocessing', `/orders/${encodeURIComponent(id)}`));
    }),
    { numRuns: 200 },
  );

  expect(statuses.length).toBeGreaterThanOrEqual(1200);
  expect(statuses.filter((status) => status >= 500)).toEqual([]);

  const id = await placeOrder({ customer: 'AfterFuzz', items: ['milk'], total: 3 });
  expect((await waitForOrder(id, finished)).order_result?.success).toBe(true);
});

it('answers every spelling of every route (encoded, doubled slashes, upper case…) without a single 5xx', async () => {
  const routes = [...Object.entries(PUBLIC_ROUTES), ...Object.entries(SIDECAR_ONLY_ROUTES)].flatMap(([appId, list]) =>
    list.flatMap(([method, path]) => [path, ...pathVariants(path)].map((spelling) => ({ appId, method, spelling }))),
  );
  const bodies = fc.sample(
    fc.oneof(
      orderish.map((body) => JSON.stringify(body)),
      approvalish.map((body) => JSON.stringify(body)),
      rawText,
    ),
    {
      numRuns: routes.length,
      seed: 20,
    },
  );
  const failures: string[] = [];
  for (const [n, { appId, method, spelling }] of routes.entries()) {
    const body = method === 'GET' ? undefined : bodies[n];
    // Strangers everywhere; an approver where the route takes one. Never the admin: the shipping toggles
    // would put the stack in maintenance under the other tests.
    for (const as of ['stranger', 'chris'] as const) {
      const status = await rawCall(appId, method, spelling, { body, as }).catch((error: Error) => error.message);
      if (typeof status === 'string' || status >= 500)
        failures.push(`${appId} ${method} ${spelling} as ${as} → ${status} (${body})`);
    }
  }
  expect(routes.length).toBeGreaterThan(400);
  expect(failures).toEqual([]);
});
