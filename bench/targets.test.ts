import { describe, expect, it } from 'vitest';
import type { PhaseKind } from './load.ts';
import { type PhaseSummary, type Spread, spreadOf } from './rounds.ts';
import { bestCase, LIMITS, targets } from './targets.ts';

const one = (value: number): Spread => ({ median: value, min: value, max: value });

function summary(kind: PhaseKind, concurrency: number, figures: Partial<PhaseSummary> = {}): PhaseSummary {
  return {
    kind,
    concurrency,
    rounds: 3,
    completed: 100,
    errors: 0,
    aborted: false,
    p50: one(100),
    p95: one(150),
    p99: one(200),
    max: one(300),
    perSecond: one(50),
    ...figures,
  };
}

/** A run that meets every target, for each test to spoil one figure of. */
function passing(overrides: Partial<Record<string, Partial<PhaseSummary>>> = {}): PhaseSummary[] {
  return [
    summary('floor', 1, { p50: one(15), ...overrides['floor ×1'] }),
    summary('calls', 1, { p50: one(20), ...overrides['calls ×1'] }),
    summary('orders', 1, { p50: one(28), ...overrides['orders ×1'] }),
    summary('floor', 30, { perSecond: one(120), ...overrides['floor ×30'] }),
    summary('calls', 30, { perSecond: one(80), ...overrides['calls ×30'] }),
    summary('orders', 30, {
      perSecond: one(60),
      p99: one(900),
      stackPeakMiB: one(1400),
      stackPeakPssMiB: one(800),
      stackCpuMs: one(19),
      ...overrides['orders ×30'],
    }),
  ];
}

const judged = (summaries: PhaseSummary[]) =>
  Object.fromEntries(targets(summaries, 30).map((target) => [target.name, target]));
const NAMES = {
  rate: 'orders/s at 30 in flight ≥ 0.75 × calls/s',
  p50: 'order p50 at 1 in flight ≤ 1.4 × calls p50',
  p99: 'order p99 at 30 in flight < 1 s',
  errors: 'order errors = 0',
  rss: 'stack RSS at 30 orders in flight ≤ 1.5 GB',
  cpu: 'stack CPU per order at 30 in flight ≤ 20 ms',
};

describe('targets', () => {
  it('are the six of issue #23, all met by a run that meets them', () => {
    const list = targets(passing(), 30);
    expect(list.map((target) => target.name).sort()).toEqual(Object.values(NAMES).sort());
    expect(list.filter((target) => !target.pass)).toEqual([]);
  });

  it('judge orders/s against 0.75 × the calls workload’s, not the floor’s', () => {
    expect(judged(passing({ 'orders ×30': { perSecond: one(60) } }))[NAMES.rate]?.pass).toBe(true); // 60 = 0.75 × 80
    expect(judged(passing({ 'orders ×30': { perSecond: one(59.9) } }))[NAMES.rate]?.pass).toBe(false);
    expect(judged(passing({ 'floor ×30': { perSecond: one(1000) } }))[NAMES.rate]?.pass).toBe(true);
    expect(judged(passing())[NAMES.rate]?.measured).toBe('60/s, 0.75 ×');
  });

  it('judge the order’s p50 at 1 in flight against 1.4 × the calls workload’s', () => {
    expect(judged(passing({ 'orders ×1': { p50: one(28) } }))[NAMES.p50]?.pass).toBe(true); // 28 = 1.4 × 20
    expect(judged(passing({ 'orders ×1': { p50: one(28.1) } }))[NAMES.p50]?.pass).toBe(false);
  });

  it('want p99 under a second, no errors in any order phase, the stack under 1.5 GB and 20 ms of CPU', () => {
    expect(judged(passing({ 'orders ×30': { p99: one(1000) } }))[NAMES.p99]?.pass).toBe(false);
    expect(judged(passing({ 'orders ×1': { errors: 1 } }))[NAMES.errors]?.pass).toBe(false);
    expect(judged(passing({ 'orders ×30': { aborted: true } }))[NAMES.errors]?.pass).toBe(false);
    expect(judged(passing({ 'calls ×30': { errors: 5 } }))[NAMES.errors]?.pass).toBe(true);
    const rss = (mib: number) => judged(passing({ 'orders ×30': { stackPeakMiB: one(mib) } }))[NAMES.rss]?.pass;
    expect([rss(1430), rss(1431)]).toEqual([true, false]); // 1430 MiB = 1,499.5 MB
    const cpu = (value: number) => judged(passing({ 'orders ×30': { stackCpuMs: one(value) } }))[NAMES.cpu]?.pass;
    expect([cpu(LIMITS.stackCpuMsPerOrder), cpu(20.1)]).toEqual([true, false]);
  });

  it('judge the median of the rounds, and show their spread', () => {
    const list = judged(
      passing({ 'orders ×30': { perSecond: spreadOf([61, 20, 62]), p99: spreadOf([900, 5000, 950]) } }),
    );
    expect(list[NAMES.rate]?.pass).toBe(true);
    expect(list[NAMES.rate]?.measured).toBe('61/s (20–62), 0.76 ×');
    expect(list[NAMES.p99]?.pass).toBe(true);
    expect(list[NAMES.p99]?.measured).toBe('950 ms (900–5000)');
  });

  it('leave out what the run did not measure', () => {
    const ordersOnly = [summary('orders', 30, { perSecond: one(60), p99: one(900) })];
    expect(targets(ordersOnly, 30).map((target) => target.name)).toEqual([NAMES.p99, NAMES.errors]);
  });
});

describe('bestCase', () => {
  it('compares the floor plus the calls with the floor, at 1 in flight and under load', () => {
    const text = bestCase(passing(), 30);
    expect(text).toContain('p50 20 ms at 1 in flight, 1.33 × the floor');
    expect(text).toContain('80/s at 30 in flight, 0.67 × the floor');
  });

  it('says nothing without a calls workload to compare', () => {
    expect(bestCase([summary('floor', 1), summary('orders', 1)], 30)).toBeUndefined();
  });
});
