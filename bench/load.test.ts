import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type PhaseSpec, percentile, runPhase } from './load.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('is the value at rank ⌈p × n⌉ of the sorted values', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
  });

  it('is never below the lowest nor above the highest value', () => {
    expect(percentile([7, 8, 9], 0)).toBe(7);
    expect(percentile([7, 8, 9], 99.9)).toBe(9);
    expect(percentile([42], 50)).toBe(42);
  });

  it('is 0 for no values', () => {
    expect(percentile([], 99)).toBe(0);
  });

  it('lets one slow item out of 50 set the p99, as it should', () => {
    const latencies = [...Array.from({ length: 49 }, () => 100), 900].sort((a, b) => a - b);
    expect(percentile(latencies, 99)).toBe(900);
    expect(percentile(latencies, 95)).toBe(100);
  });
});

const spec = (overrides: Partial<PhaseSpec> = {}): PhaseSpec => ({
  name: 'test ×2, round 1',
  kind: 'orders',
  concurrency: 2,
  durationMs: 60_000,
  maxCount: 6,
  round: 1,
  ...overrides,
});
const options = { signal: new AbortController().signal, onProgress: () => undefined, itemTimeoutMs: 5_000 };

describe('runPhase', () => {
  it('keeps `concurrency` items in flight until the count runs out, timing the phase from first start to last end', async () => {
    let inFlight = 0;
    let most = 0;
    const result = await runPhase(
      spec(),
      async () => {
        most = Math.max(most, ++inFlight);
        await sleep(50);
        inFlight--;
      },
      options,
    );
    expect(most).toBe(2);
    expect(result.completed).toBe(6);
    expect(result.round).toBe(1);
    // 6 items of 50 ms, 2 at a time: 3 after one another, 150 ms; a timer may fire a little late.
    expect(result.seconds).toBeGreaterThanOrEqual(0.1);
    expect(result.seconds).toBeLessThan(0.5);
    expect(result.perSecond).toBeGreaterThan(12);
    expect(result.perSecond).toBeLessThanOrEqual(6 / 0.15 + 1);
    expect(result.latency.p50).toBeGreaterThanOrEqual(49);
    expect(result.latency.max).toBeLessThan(300);
  });

  it('stops starting items once its time is up, and waits for those in flight', async () => {
    const result = await runPhase(spec({ durationMs: 120, maxCount: 1000 }), () => sleep(50), options);
    // Starts at 0, 50 and 100 ms on each worker: 3 rounds of 2, the last ending at ~150 ms.
    expect(result.completed).toBeGreaterThanOrEqual(4);
    expect(result.completed).toBeLessThanOrEqual(8);
    expect(result.seconds).toBeGreaterThanOrEqual(0.1);
  });

  it('counts failures and items past their deadline as errors, apart from the latencies', async () => {
    const result = await runPhase(
      spec({ maxCount: 5, concurrency: 1 }),
      async (index) => {
        if (index === 1) throw new Error('POST /orders answered 503');
        if (index === 3) await sleep(10_000, undefined, { ref: false });
      },
      { ...options, itemTimeoutMs: 100 },
    );
    expect(result.completed).toBe(3);
    expect(result.errors).toBe(2);
    expect(result.errorSamples).toEqual([
      { message: 'POST /orders answered 503', count: 1 },
      { message: 'not done within 0.1 s', count: 1 },
    ]);
    expect(result.latency.max).toBeLessThan(100);
  });
});
