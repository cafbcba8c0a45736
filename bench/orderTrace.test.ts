import { describe, expect, it } from 'vitest';
import type { ZipkinSpan } from '../test/integration/zipkin.ts';
import { stableSpans, tally } from './orderTrace.ts';

const span = (service: string, name: string, id = Math.random().toString(16).slice(2)): ZipkinSpan => ({
  traceId: 't',
  id,
  name,
  timestamp: 0,
  localEndpoint: { serviceName: service },
});

describe('tally', () => {
  it('counts spans per service and name, most first', () => {
    const spans = [
      span('orderprocessing', 'post /orders'),
      span('inventory', 'post /reserve'),
      span('orderprocessing', 'calls/runtime.v1.dapr/publishevent'),
      span('orderprocessing', 'calls/runtime.v1.dapr/publishevent'),
      span('notifications', 'calls/runtime.v1.dapr/publishevent'),
    ];
    expect(tally(spans)).toEqual([
      { service: 'orderprocessing', name: 'calls/runtime.v1.dapr/publishevent', count: 2 },
      { service: 'inventory', name: 'post /reserve', count: 1 },
      { service: 'notifications', name: 'calls/runtime.v1.dapr/publishevent', count: 1 },
      { service: 'orderprocessing', name: 'post /orders', count: 1 },
    ]);
  });
});

describe('stableSpans', () => {
  const options = { quietMs: 60, everyMs: 10, timeoutMs: 2_000 };

  it('reads again until the count has held still for the quiet time', async () => {
    const batches = [0, 0, 3, 3, 7, 7, 7];
    let reads = 0;
    const read = async () =>
      Array.from({ length: batches[Math.min(reads++, batches.length - 1)] ?? 0 }, () => span('a', 'x'));
    const { spans, stable } = await stableSpans(read, options);
    expect(stable).toBe(true);
    expect(spans).toHaveLength(7);
    // 7 first seen on the 5th read; then at least 60 ms of reads every 10 ms.
    expect(reads).toBeGreaterThanOrEqual(8);
  });

  it('does not call an empty trace whole, and gives up at the deadline saying so', async () => {
    const { spans, stable } = await stableSpans(async () => [], { ...options, timeoutMs: 100 });
    expect(stable).toBe(false);
    expect(spans).toEqual([]);
  });

  it('says so when the trace is still growing at the deadline', async () => {
    let reads = 0;
    const growing = async () => Array.from({ length: ++reads }, () => span('a', 'x'));
    const { stable } = await stableSpans(growing, { ...options, timeoutMs: 150 });
    expect(stable).toBe(false);
  });
});
