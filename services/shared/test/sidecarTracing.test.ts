// The sidecar calls at TRACE_DETAIL=steps (the default): a service invocation or publish carries the
// current span, a state call carries "not sampled" and becomes an event on the current span.
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTraceDetail, traceDetail, traceDetailOf, traceSidecarCall } from '../src/tracing.ts';

const exporter = new InMemorySpanExporter();
const sampled = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const unsampled = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
const manager = new AsyncLocalStorageContextManager();
const detailBefore = traceDetail();

beforeAll(() => {
  context.setGlobalContextManager(manager.enable());
  setTraceDetail('steps');
});
afterAll(() => {
  context.disable();
  if (detailBefore) setTraceDetail(detailBefore);
});
afterEach(() => exporter.reset());

/** What the sidecar would have received: the headers of one call, made inside `span`. */
async function callIn(span: Span | undefined, method: string, path: string, statusCode = 200) {
  let sent: Record<string, string> = {};
  const run = () =>
    traceSidecarCall(method, path, { 'content-type': 'application/json' }, async (headers) => {
      sent = headers;
      return { statusCode };
    });
  await (span ? context.with(trace.setSpan(context.active(), span), run) : run());
  return sent;
}

const flags = (traceparent: string | undefined) => traceparent?.split('-')[3];

describe('a call to the sidecar at TRACE_DETAIL=steps', () => {
  it('passes a sampled step on to service invocations and publishes, so the sidecar records them under it', async () => {
    const step = sampled.getTracer('t').startSpan('activity reserveinventory');
    const { traceId, spanId } = step.spanContext();
    for (const path of ['/v1.0/invoke/inventory/method/reserve', '/v1.0/publish/orders/notifications']) {
      const headers = await callIn(step, 'POST', path);
      expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      expect(headers['content-type']).toBe('application/json');
    }
    step.end();
    expect(exporter.getFinishedSpans()[0]?.events).toEqual([]);
  });

  it('tells the sidecar not to record a state call, and notes it as an event of the step instead', async () => {
    const step = sampled.getTracer('t').startSpan('post /reserve');
    const { traceId, spanId } = step.spanContext();
    const headers = await callIn(step, 'GET', '/v1.0/state/statestore/stock');
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-00`);
    await context.with(trace.setSpan(context.active(), step), () =>
      expect(
        traceSidecarCall('POST', '/v1.0/state/statestore', {}, () => Promise.reject(new Error('refused'))),
      ).rejects.toThrow('refused'),
    );
    step.end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.events.map((event) => event.name.replace(/\d+ ms$/, 'n ms'))).toEqual([
      'state GET: 200 in n ms',
      'state POST: failed in n ms',
    ]);
    expect(span?.events[0]?.attributes).toMatchObject({ 'http.response.status_code': 200 });
  });

  it('says "not sampled" for every call of an unsampled order, and of work outside any order', async () => {
    const step = unsampled.getTracer('t').startSpan('activity shiporder');
    expect(flags((await callIn(step, 'POST', '/v1.0/invoke/shipping/method/ship')).traceparent)).toBe('00');
    const outside = await callIn(undefined, 'POST', '/v1.0/publish/orders/notifications');
    expect(outside.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(flags((await callIn(undefined, 'GET', '/v1.0/state/statestore/x')).traceparent)).toBe('00');
  });

  it('adds nothing at TRACE_DETAIL=calls (undici makes the spans) or with tracing off', async () => {
    const step = sampled.getTracer('t').startSpan('activity notify');
    setTraceDetail('calls');
    try {
      expect(await callIn(step, 'POST', '/v1.0/publish/orders/notifications')).toEqual({
        'content-type': 'application/json',
      });
    } finally {
      setTraceDetail('steps');
    }
    step.end();
  });
});

describe('TRACE_DETAIL', () => {
  it('is steps unless it says calls; anything else stops the service with the choices', () => {
    expect(traceDetailOf({})).toBe('steps');
    expect(traceDetailOf({ TRACE_DETAIL: ' Calls ' })).toBe('calls');
    expect(() => traceDetailOf({ TRACE_DETAIL: 'all' })).toThrow('it must be "steps" (the default) or "calls"');
  });
});
