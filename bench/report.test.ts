import { describe, expect, it } from 'vitest';
import type { PhaseKind, PhaseResult } from './load.ts';
import { bestCase, targets } from './report.ts';

function phase(kind: PhaseKind, concurrency: number, p50: number, perSecond: number, warmUp = false): PhaseResult {
  return {
    name: `${kind}${warmUp ? ' warm-up' : ''} ×${concurrency}`,
    kind,
    concurrency,
    warmUp,
    seconds: 30,
    completed: Math.round(perSecond * 30),
    errors: 0,
    errorSamples: [],
    latency: { p50, p95: p50 * 1.5, p99: p50 * 2, max: p50 * 3, mean: p50 },
    perSecond,
    aborted: false,
  };
}

const settings = { concurrency: 30 } as Parameters<typeof bestCase>[0]['settings'];

describe('bestCase', () => {
  it('compares the floor plus the calls with the floor, at 1 in flight and under load', () => {
    const text = bestCase({
      settings,
      phases: [
        phase('calls', 10, 999, 1, true), // a warm-up is never compared
        phase('floor', 1, 20, 40),
        phase('calls', 1, 30, 30),
        phase('floor', 30, 150, 180),
        phase('calls', 30, 300, 90),
      ],
    });
    expect(text).toContain('p50 30 ms at 1 in flight, 1.50 × the floor');
    expect(text).toContain('90/s at 30 in flight, 0.50 × the floor');
  });

  it('says nothing without a calls phase to compare', () => {
    expect(bestCase({ settings, phases: [phase('floor', 1, 20, 40), phase('orders', 1, 40, 20)] })).toBeUndefined();
  });
});

describe('targets', () => {
  it('judges orders against the floor, not against the calls', () => {
    const list = targets({
      settings,
      phases: [
        phase('floor', 1, 20, 40),
        phase('calls', 1, 25, 35),
        phase('orders', 1, 29, 30),
        phase('orders', 30, 400, 61),
        phase('calls', 30, 300, 90),
        phase('floor', 30, 150, 100),
      ],
      usage: [],
    } as unknown as Parameters<typeof targets>[0]);
    const byName = Object.fromEntries(list.map((target) => [target.name, target]));
    expect(byName['order p50 at 1 in flight ≤ 1.5 × floor p50']?.pass).toBe(true); // 29 ≤ 30
    expect(byName['orders/s ≥ 0.8 × floor workflows/s']?.pass).toBe(false); // 61 < 80
    expect(byName['orders/s at 30 in flight ≥ 60']?.pass).toBe(true);
  });
});
