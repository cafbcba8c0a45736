// Each entry of a batch joins its own order's trace: a span per entry whose parent is the CloudEvent's
// traceparent. A file of its own, since it registers a tracer provider for the whole process.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import { createServiceApp } from '#shared/http.ts';
import { FakeState, touches } from '../../shared/test/fakeState.ts';
import { LiveUpdates } from '../src/live.ts';
import { OrderIndex } from '../src/orderIndex/orderIndex.ts';
import { ReadModel } from '../src/readModel.ts';
import { registerSubscription } from '../src/subscription.ts';
import { bulkRequest, entry, note } from './bulk.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => provider.register());
afterAll(() => provider.shutdown());

const parent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
const A = { traceId: 'a'.repeat(32), spanId: '1'.repeat(16) };
const B = { traceId: 'b'.repeat(32), spanId: '2'.repeat(16) };

describe('tracing of a batch', () => {
  it('runs each entry in a span whose parent is its CloudEvent’s traceparent, failed when it is retried', async () => {
    const store = new FakeState();
    const app = createServiceApp({ name: 'notifications', logLevel: 'silent' });
    app.register(async (scoped) =>
      registerSubscription(scoped as typeof app, {
        model: new ReadModel(store),
        index: new OrderIndex(store),
        live: new LiveUpdates(),
      }),
    );
    // The batch's save fails, and so does order_sam_bbbbb's own try after it.
    for (let n = 0; n < 2; n++) {
      store.failOnSave(1, touches('timeline:order_sam_bbbbb'), new DaprError('save state: redis down', 500, undefined));
    }

    const answer = await app.inject(
      bulkRequest([
        entry('e1', note('received', 'order_riley_aaaaa'), parent(A.traceId, A.spanId)),
        entry('e2', note('received', 'order_sam_bbbbb'), parent(B.traceId, B.spanId)),
      ]),
    );
    await app.close();
    expect(answer.json().statuses.map((status: { status: string }) => status.status)).toEqual(['SUCCESS', 'RETRY']);

    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'POST /notifications');
    expect(spans).toHaveLength(2);
    const [first, second] = [A, B].map((want) => spans.find((span) => span.spanContext().traceId === want.traceId));
    expect(first?.parentSpanContext?.spanId).toBe(A.spanId);
    expect(first?.kind).toBe(SpanKind.CONSUMER);
    expect(first?.attributes['order.id']).toBe('order_riley_aaaaa');
    expect(first?.status.code).toBe(SpanStatusCode.UNSET);
    expect(second?.parentSpanContext?.spanId).toBe(B.spanId);
    expect(second?.attributes['order.id']).toBe('order_sam_bbbbb');
    expect(second?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'RETRY' });
  });
});
