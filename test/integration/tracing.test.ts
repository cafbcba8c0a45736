// One trace per order in Zipkin, on the real stack and its private Zipkin: from POST /orders through the
// workflow, its activities and the services they call, to the end, with the approval wait as a span of
// its own and the failing step of a failed order marked as an error.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION, versionNumbered } from '../../services/orderprocessing/src/workflow/versions.ts';
import { call, finished, getOrder, placeOrder, tokensOf, waitForOrder, waitingForApproval } from './client.ts';
import { control } from './stackControl.ts';
import { hasAll, orderTrace, settledTrace, type Trace, type ZipkinSpan, zipkin } from './zipkin.ts';

/** Issue #22's bound on an auto-approved order's trace at the default TRACE_DETAIL (35 spans when written). */
const MAX_ORDER_SPANS = 40;
/** The spans of a call to the state store: the app's (TRACE_DETAIL=calls) or the sidecar's. */
const isStateCall = (span: ZipkinSpan) => span.name.startsWith('state ') || span.name.startsWith('/v1.0/state/');

const ACTIVITY = (name: string) => `activity ${name.toLowerCase()}`;
const WORKFLOW = 'workflow orderworkflow';
/** The sidecar's span of the workflow, named after the version new orders start on. */
const ORCHESTRATION = `orchestration||${versionNumbered(LATEST_VERSION).name.toLowerCase()}`;

/** A service's span and the activity that called it (through both sidecars). */
const SERVICE_CALLS = [
  ['post /reserve', 'reserveInventory'],
  ['post /charge', 'chargePayment'],
  ['post /ship', 'shipOrder'],
] as const;

/**
 * The chains the first test follows are all there. The sidecars send their spans in batches of their own,
 * which may arrive after the apps' (or the other way round), so names alone do not say the trace is whole.
 */
const linked = (trace: Trace) =>
  SERVICE_CALLS.every(([span, step]) => trace.named(span).some((s) => trace.isUnder(s, ACTIVITY(step)))) &&
  trace.named('post /notifications').length >= 2 &&
  trace.named('post /notifications').every((delivery) => trace.isUnder(delivery, WORKFLOW)) &&
  trace.named(ORCHESTRATION).some((span) => trace.isUnder(span, 'post /orders'));

/** Places the order and returns it finished, with the trace id GET /orders/:id names. */
async function placeAndFinish(order: unknown) {
  const id = await placeOrder(order);
  const view = await waitForOrder(id, finished);
  const traced = (await call<{ trace_id?: string; trace_url?: string }>('orderprocessing', `/orders/${id}`)).body;
  expect(traced.trace_id).toMatch(/^[0-9a-f]{32}$/);
  expect(traced.trace_url).toBe(`${zipkin()}/zipkin/traces/${traced.trace_id}`);
  return { id, view, traceId: traced.trace_id as string };
}

describe('an order in Zipkin', () => {
  it('is one trace from POST /orders to shipped, across every service, under its workflow span', async () => {
    const { id, view, traceId } = await placeAndFinish({ customer: 'Tracy', items: ['milk', 'bread'], total: 7 });
    expect(view.status).toBe('COMPLETED');
    const steps = ['reserveInventory', 'chargePayment', 'shipOrder'].map(ACTIVITY);
    const trace = await orderTrace(id, traceId, (found) => hasAll(WORKFLOW, ...steps)(found) && linked(found));

    expect([...trace.services()].sort()).toEqual([
      'inventory',
      'notifications',
      'orderprocessing',
      'payments',
      'shipping',
    ]);
    expect(trace.spans.every((span) => span.traceId === traceId)).toBe(true);

    // POST /orders is the root; the workflow span hangs under it and covers the order to its end.
    const root = trace.one('post /orders');
    expect(root.parentId).toBeUndefined();
    expect(root.tags?.['order.id']).toBe(id);
    const workflow = trace.one(WORKFLOW);
    expect(workflow.parentId).toBe(root.id);
    expect(workflow.tags).toMatchObject({ 'order.id': id, 'order.success': 'true' });
    for (const step of steps) {
      const span = trace.one(step);
      expect(span.parentId).toBe(workflow.id);
      expect(span.timestamp).toBeGreaterThanOrEqual(workflow.timestamp);
      expect(span.timestamp + (span.duration ?? 0)).toBeLessThanOrEqual(workflow.timestamp + (workflow.duration ?? 0));
    }

    // Each service's own span hangs under the activity that called it, through both sidecars.
    expect(trace.isUnder(trace.one('post /reserve'), ACTIVITY('reserveInventory'))).toBe(true);
    expect(trace.isUnder(trace.one('post /charge'), ACTIVITY('chargePayment'))).toBe(true);
    expect(trace.isUnder(trace.one('post /ship'), ACTIVITY('shipOrder'))).toBe(true);
    expect(
      trace
        .named('calllocal/inventory/reserve')
        .map((span) => span.localEndpoint?.serviceName)
        .sort(),
    ).toEqual(['inventory', 'orderprocessing']);
    // … and so do the notifications, through pub/sub.
    const deliveries = trace.named('post /notifications');
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    for (const delivery of deliveries) expect(trace.isUnder(delivery, WORKFLOW)).toBe(true);

    // The sidecar's own view of the workflow joins the same trace.
    expect(trace.isUnder(trace.one(ORCHESTRATION), 'post /orders')).toBe(true);
    expect(trace.spans.filter((span) => span.tags?.error)).toEqual([]);

    // The story only: the calls to the state store are events of the span that made them, not spans.
    const whole = await settledTrace(id, traceId, () => true);
    expect(whole.spans.length, whole.summary()).toBeLessThanOrEqual(MAX_ORDER_SPANS);
    expect(whole.spans.filter(isStateCall)).toEqual([]);
    // A batch of notifications holds other orders' messages too: its request is no span of this trace.
    expect(whole.named('post /notifications/bulk')).toEqual([]);
    const reserved = whole.one('post /reserve').annotations?.map((event) => event.value) ?? [];
    expect(
      reserved.some((event) => /^state (GET|POST): 2\d\d in \d+ ms$/.test(event)),
      reserved.join(),
    ).toBe(true);
  });

  it('shows every call to the sidecar as a span of its own at TRACE_DETAIL=calls', async () => {
    await control('payments', 'app', 'kill');
    await control('payments', 'app', 'start', { TRACE_DETAIL: 'calls' });
    const saved = (trace: Trace) => trace.spans.some((span) => span.name === '/v1.0/state/statestore');
    let trace: Trace;
    try {
      const { id, traceId } = await placeAndFinish({ customer: 'Tracy', items: ['bread'], total: 4 });
      // Before payments stops again: a killed app's last spans, still in its batch, are lost.
      trace = await orderTrace(id, traceId, (found) => hasAll('post /charge', 'state post')(found) && saved(found));
    } finally {
      await control('payments', 'app', 'kill');
      await control('payments', 'app', 'start');
    }
    // payments' ledger write: its own span under its handler, and its sidecar's span under that.
    const write = trace.named('state post').filter((span) => span.localEndpoint?.serviceName === 'payments');
    expect(write.length).toBeGreaterThan(0);
    for (const span of write) expect(trace.isUnder(span, 'post /charge')).toBe(true);
    const sidecar = trace
      .named('/v1.0/state/statestore')
      .filter((span) => span.localEndpoint?.serviceName === 'payments');
    expect(sidecar.some((span) => trace.isUnder(span, 'state post'))).toBe(true);
    // The other services stayed at the default: no state spans of theirs.
    const others = trace.spans.filter((span) => isStateCall(span) && span.localEndpoint?.serviceName !== 'payments');
    expect(others).toEqual([]);
  });

  it('shows the wait for approval as a span of its own, between the reservation and the charge', async () => {
    const id = await placeOrder({ customer: 'Tracy', items: ['iPhone'], total: 1100 });
    await waitForOrder(id, waitingForApproval);
    await sleep(1_500);
    expect(
      (await call('orderprocessing', `/orders/${id}/approve`, { body: { approved: true }, as: 'chris' })).status,
    ).toBe(202);
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    const traceId = (await call<{ trace_id: string }>('orderprocessing', `/orders/${id}`)).body.trace_id;

    const wait = 'stage waiting_for_approval';
    const trace = await orderTrace(id, traceId, hasAll(WORKFLOW, wait, ACTIVITY('shipOrder')));
    const span = trace.one(wait);
    expect(span.parentId).toBe(trace.one(WORKFLOW).id);
    expect(span.duration ?? 0).toBeGreaterThanOrEqual(1_500_000); // microseconds
    const reserved = trace.one(ACTIVITY('reserveInventory'));
    expect(span.timestamp).toBeGreaterThanOrEqual(reserved.timestamp + (reserved.duration ?? 0));
    expect(trace.one(ACTIVITY('chargePayment')).timestamp).toBeGreaterThanOrEqual(
      span.timestamp + (span.duration ?? 0),
    );
  });
});

describe('a request from outside', () => {
  it("starts a trace of its own: a caller's traceparent joins no order's trace (order ids are public)", async () => {
    const foreign = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${foreign}-00f067aa0ba902b7-01`;
    const id = await placeOrder({ customer: 'Tracy', items: ['milk'], total: 3 }, { traceparent, tracestate: 'x=1' });
    await waitForOrder(id, finished);
    const traceId = (await call<{ trace_id: string }>('orderprocessing', `/orders/${id}`)).body.trace_id;
    expect(traceId).not.toBe(foreign);
    const trace = await orderTrace(id, traceId, hasAll(WORKFLOW, ACTIVITY('shipOrder')));
    expect(trace.one('post /orders').parentId).toBeUndefined();
    // The order's spans have reached Zipkin; none of them went to the caller's trace.
    expect((await fetch(`${zipkin()}/api/v2/trace/${foreign}`)).status).toBe(404);
  });
});

describe('sampling', () => {
  it('follows a decision not to sample everywhere: no span in any app, none in a sidecar but the engine strays', async () => {
    // An upstream caller that decided not to sample, as our sidecar would pass its traceparent on (with the
    // app token). orderprocessing's sampler is parentbased, like every app's and sidecar's: all follow it.
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
    const from = Date.now();
    const id = await placeOrder(
      { customer: 'Tracy', items: ['milk'], total: 3 },
      { traceparent, 'dapr-api-token': tokensOf('orderprocessing').appApiToken },
    );
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    expect((await call<{ trace_id?: string }>('orderprocessing', `/orders/${id}`)).body.trace_id).toBeUndefined();
    await sleep(1_500); // longer than any app's or sidecar's batch delay on the test stack
    const window = new URLSearchParams({
      endTs: String(Date.now()),
      lookback: String(Date.now() - from),
      limit: '1000',
    });
    const traces = (await (await fetch(`${zipkin()}/api/v2/traces?${window}`)).json()) as ZipkinSpan[][];
    // Reads of the order (GET /orders/:id) are traces of their own, sampled on their own.
    const recorded = traces.filter((trace) => !trace.some((span) => span.name === 'get /orders/:orderid')).flat();
    // Strays: durabletask-go gives an unsampled workflow's activities no parent, so the engine's span of
    // each starts a trace of its own at its sidecar's samplingRate (1 on this stack; in production the
    // apps' ratio, docs/architecture.md, "Sampling").
    const strays = recorded.filter((span) => span.name.startsWith('activity||') && !span.parentId);
    expect(strays.length).toBeLessThanOrEqual(3);
    const names = recorded.filter((span) => !strays.includes(span)).map((span) => span.name);
    expect(names).toEqual([]);
  });
});

describe('a failed order in Zipkin', () => {
  it('marks the failing step, the service that failed and the workflow as errors; the compensations are there', async () => {
    expect((await call('shipping', '/shipping/deactivate', { method: 'POST', as: 'admin' })).status).toBe(200);
    let placed: Awaited<ReturnType<typeof placeAndFinish>>;
    try {
      placed = await placeAndFinish({ customer: 'Tracy', items: ['apples'], total: 2 });
    } finally {
      await call('shipping', '/shipping/activate', { method: 'POST', as: 'admin' });
    }
    const { id, view, traceId } = placed;
    expect(view.status).toBe('FAILED');
    const undo = [ACTIVITY('refundPayment'), ACTIVITY('releaseInventory')];
    // A 503 is worth another try: each try of the step is a span of its own, as is shipping's answer to it.
    const retried = (trace: Trace) =>
      trace.named(ACTIVITY('shipOrder')).length > 1 &&
      trace.named('post /ship').length === trace.named(ACTIVITY('shipOrder')).length;
    const trace = await orderTrace(
      id,
      traceId,
      (found) => hasAll(WORKFLOW, ...undo, 'post /refund', 'post /release')(found) && retried(found),
    );

    expect(trace.one(WORKFLOW).tags?.error).toMatch(/^shipping failed: .*503/);
    const shipping = trace.named(ACTIVITY('shipOrder')).sort((a, b) => a.timestamp - b.timestamp);
    expect(shipping.length).toBeGreaterThan(1);
    for (const attempt of shipping) expect(attempt.tags?.error).toMatch(/deactivated for maintenance \(HTTP 503\)/);
    // One try after the other, each after the previous one failed.
    for (const [n, attempt] of shipping.slice(1).entries()) {
      const previous = shipping[n] as ZipkinSpan;
      expect(attempt.timestamp).toBeGreaterThanOrEqual(previous.timestamp + (previous.duration ?? 0));
    }
    const refused = trace.named('post /ship');
    expect(refused.length).toBe(shipping.length);
    for (const span of refused) {
      expect(span.localEndpoint?.serviceName).toBe('shipping');
      expect(span.tags?.error).toBe('HTTP 503');
    }
    for (const name of undo) expect(trace.one(name).tags?.error).toBeUndefined();
    expect((await getOrder(id)).failure_details?.message).toMatch(/503/);
  });
});
