// The order's trace as the workflow writes it: which spans, with which parents and times, and never twice
// when the engine replays the workflow. On an in-memory exporter and a fake workflow context.
import type { Task, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { context, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spanIds, toTraceparent } from '#shared/tracing.ts';
import {
  newWorkflowTrace,
  traceActivity,
  traceIdOf,
  traceWorkflow,
  type WorkflowTrace,
} from '../src/workflow/tracing.ts';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  new NodeTracerProvider({ idGenerator: spanIds, spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
});
afterEach(() => exporter.reset());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const REQUEST_SPAN = '00f067aa0ba902b7';
const WORKFLOW_SPAN = 'b7ad6b7169203331';
const orderTrace: WorkflowTrace = { traceparent: `00-${TRACE_ID}-${REQUEST_SPAN}-01`, spanId: WORKFLOW_SPAN };

/** A workflow context whose clock and replay flag the test moves. */
class FakeContext {
  now = new Date('2026-11-21T10:00:00Z');
  replaying = false;
  readonly scheduled: { name: unknown; input: unknown }[] = [];
  readonly statuses: string[] = [];
  getWorkflowInstanceId = () => 'order_tracy_abcde';
  getCurrentUtcDateTime = () => this.now;
  isReplaying = () => this.replaying;
  callActivity(name: unknown, input: unknown) {
    this.scheduled.push({ name, input });
    return { name } as unknown as Task<unknown>;
  }
  waitForExternalEvent = (name: string) => ({ name }) as unknown as Task<unknown>;
  setCustomStatus(status: string) {
    this.statuses.push(status);
  }
  advance(ms: number) {
    this.now = new Date(this.now.getTime() + ms);
  }
}

/** Reserve, wait for approval, charge: enough of the order's shape for its spans. */
async function* story(
  ctx: WorkflowContext,
  _input: { trace?: WorkflowTrace },
): AsyncGenerator<Task<unknown>, { id: string; success: boolean; message: string }, unknown> {
  yield ctx.callActivity('reserveInventory', { orderId: 'order_tracy_abcde' });
  ctx.setCustomStatus('waiting_for_approval');
  yield ctx.waitForExternalEvent('approval');
  ctx.setCustomStatus('');
  const charged = yield ctx.callActivity('chargePayment', { amount: 3 });
  if (charged === 'declined') throw new Error('payment failed: declined');
  return { id: 'order_tracy_abcde', success: true, message: 'Order processed successfully' };
}

/** Runs the traced story to its end, the clock moving `stepMs` (and `waitMs` for the approval) per step. */
async function run(ctx: FakeContext, input: { trace?: WorkflowTrace }, results: unknown[] = []) {
  const generator = traceWorkflow('orderWorkflow', story)(ctx as unknown as WorkflowContext, input);
  let step = await generator.next();
  const waits = [1_000, 3_600_000, 2_000];
  while (!step.done) {
    ctx.advance(waits.shift() ?? 0);
    step = await generator.next(results.shift());
  }
  return step.value;
}

const spanNamed = (name: string) => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!span) throw new Error(`no span ${name}: ${exporter.getFinishedSpans().map((s) => s.name)}`);
  return span;
};
const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;

describe('a traced workflow', () => {
  it('writes its span under the request, with the id chosen up front and the engine times', async () => {
    const ctx = new FakeContext();
    const started = ctx.now.getTime();
    expect(await run(ctx, { trace: orderTrace })).toMatchObject({ success: true });

    const workflow = spanNamed('workflow orderWorkflow');
    expect(workflow.spanContext()).toMatchObject({ traceId: TRACE_ID, spanId: WORKFLOW_SPAN });
    expect(workflow.parentSpanContext?.spanId).toBe(REQUEST_SPAN);
    expect(ms(workflow.startTime)).toBe(started);
    expect(ms(workflow.endTime)).toBe(started + 1_000 + 3_600_000 + 2_000);
    expect(workflow.attributes).toMatchObject({ 'order.id': 'order_tracy_abcde', 'order.success': true });
    expect(workflow.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('makes the approval wait a span of the workflow, from the status being set until it is cleared', async () => {
    const ctx = new FakeContext();
    const started = ctx.now.getTime();
    await run(ctx, { trace: orderTrace });
    const wait = spanNamed('stage waiting_for_approval');
    expect(wait.parentSpanContext?.spanId).toBe(WORKFLOW_SPAN);
    expect(ms(wait.startTime)).toBe(started + 1_000);
    expect(ms(wait.endTime) - ms(wait.startTime)).toBe(3_600_000);
    expect(ctx.statuses).toEqual(['waiting_for_approval', '']);
  });

  it('hands each activity its parent in an envelope around the input', async () => {
    const ctx = new FakeContext();
    await run(ctx, { trace: orderTrace });
    expect(ctx.scheduled).toEqual([
      {
        name: 'reserveInventory',
        input: { traceparent: `00-${TRACE_ID}-${WORKFLOW_SPAN}-01`, input: { orderId: 'order_tracy_abcde' } },
      },
      { name: 'chargePayment', input: { traceparent: `00-${TRACE_ID}-${WORKFLOW_SPAN}-01`, input: { amount: 3 } } },
    ]);
  });

  it('writes nothing while the engine replays what it has written already', async () => {
    const ctx = new FakeContext();
    ctx.replaying = true;
    await run(ctx, { trace: orderTrace });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('writes the workflow span once it fails, as an error with the cause, and fails all the same', async () => {
    const ctx = new FakeContext();
    await expect(run(ctx, { trace: orderTrace }, [undefined, undefined, 'declined'])).rejects.toThrow(/declined/);
    const workflow = spanNamed('workflow orderWorkflow');
    expect(workflow.status).toEqual({ code: SpanStatusCode.ERROR, message: 'payment failed: declined' });
  });

  it('runs as it is when the order carries no trace (placed untraced, or before tracing existed)', async () => {
    const ctx = new FakeContext();
    await run(ctx, {});
    expect(ctx.scheduled[0]).toEqual({ name: 'reserveInventory', input: { orderId: 'order_tracy_abcde' } });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('a traced activity', () => {
  const activityCtx = {
    getWorkflowInstanceId: () => 'order_tracy_abcde',
    getWorkflowActivityId: () => 7,
  } as unknown as WorkflowActivityContext;
  const envelope = (input: unknown) => ({ traceparent: `00-${TRACE_ID}-${WORKFLOW_SPAN}-01`, input });

  it('runs in a span under the workflow span, on its own input, with what it calls inside', async () => {
    let seen: unknown;
    let activeTrace: string | undefined;
    const reserve = traceActivity('reserveInventory', async (_ctx: WorkflowActivityContext, input: unknown) => {
      seen = input;
      activeTrace = trace.getActiveSpan()?.spanContext().traceId;
      return { reserved: true };
    });
    expect(await reserve(activityCtx, envelope({ orderId: 'order_tracy_abcde' }))).toEqual({ reserved: true });
    expect(seen).toEqual({ orderId: 'order_tracy_abcde' });
    expect(activeTrace).toBe(TRACE_ID);
    const span = spanNamed('activity reserveInventory');
    expect(span.parentSpanContext?.spanId).toBe(WORKFLOW_SPAN);
    expect(span.attributes).toMatchObject({ 'order.id': 'order_tracy_abcde', 'workflow.activity.task_id': 7 });
  });

  it('marks its span as failed and still throws', async () => {
    const ship = traceActivity('shipOrder', async () => {
      throw new Error('shipping ship: deactivated (HTTP 503)');
    });
    await expect(ship(activityCtx, envelope({}))).rejects.toThrow('HTTP 503');
    expect(spanNamed('activity shipOrder').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'shipping ship: deactivated (HTTP 503)',
    });
  });

  it('takes an input without an envelope as it is, and writes no span', async () => {
    let seen: unknown;
    const notify = traceActivity('notify', async (_ctx: WorkflowActivityContext, input: unknown) => {
      seen = input;
    });
    await notify(activityCtx, { id: 'n1', traceparent: 'not an envelope' });
    expect(seen).toEqual({ id: 'n1', traceparent: 'not an envelope' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('the trace of a new order', () => {
  it('continues the request span when it is sampled, with a fresh span id for the workflow', () => {
    const request = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: REQUEST_SPAN, traceFlags: TraceFlags.SAMPLED });
    const placed = context.with(trace.setSpan(context.active(), request), () => newWorkflowTrace());
    expect(placed?.traceparent).toBe(toTraceparent(request.spanContext()));
    expect(placed?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(placed?.spanId).not.toBe(REQUEST_SPAN);
    expect(traceIdOf(placed)).toBe(TRACE_ID);
  });

  it('is none outside a sampled request, and a stored one that is not a trace has no id', () => {
    expect(newWorkflowTrace()).toBeUndefined();
    const unsampled = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: REQUEST_SPAN, traceFlags: TraceFlags.NONE });
    expect(context.with(trace.setSpan(context.active(), unsampled), () => newWorkflowTrace())).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf({ traceparent: 'garbage', spanId: WORKFLOW_SPAN })).toBeUndefined();
  });
});
