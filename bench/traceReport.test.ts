import { describe, expect, it } from 'vitest';
import type { PhaseResult } from './load.ts';
import { APP_IDS, type BenchOptions } from './options.ts';
import type { TraceCheck } from './orderTrace.ts';
import type { PhaseSummary, Spread } from './rounds.ts';
import { roundRatios, type StackMeasure, tracingTargets } from './traceReport.ts';
import { tracingPlan } from './tracing.ts';

const one = (value: number): Spread => ({ median: value, min: value, max: value });
const phase = (round: number, perSecond: number): PhaseResult =>
  ({ round, perSecond, warmUp: round === 0, kind: 'orders', concurrency: 30 }) as PhaseResult;
const measure = (perSecond: number): StackMeasure => ({
  phases: [],
  usage: [],
  peakMiB: {},
  stackProcesses: [],
  underLoad: { perSecond: one(perSecond), completed: 1000, errors: 0, concurrency: 30 } as PhaseSummary,
});
const trace = (spans: number, services = APP_IDS, stable = true): TraceCheck => ({
  orderId: 'o',
  traceId: 't',
  spans,
  services,
  byName: [],
  stable,
  settledAfterMs: 1000,
});
const settings = { concurrency: 30 } as BenchOptions;

describe('roundRatios', () => {
  it('divides each round’s traced rate by the same round’s untraced one, warm-ups left out', () => {
    const traced = [phase(0, 5), phase(1, 40), phase(2, 45), phase(3, 30)];
    const untraced = [phase(0, 10), phase(2, 60), phase(1, 50)];
    expect(roundRatios(traced, untraced)).toEqual([0.8, 0.75]);
  });
});

describe('tracingTargets', () => {
  const judged = (traced: number, untraced: number, check?: TraceCheck) =>
    tracingTargets({ traced: measure(traced), untraced: measure(untraced), roundRatios: [], trace: check, settings });

  it('wants every order traced to keep 0.8 × the rate without tracing', () => {
    expect(judged(40, 50)[0]?.pass).toBe(true);
    expect(judged(39.9, 50)[0]?.pass).toBe(false);
    expect(judged(40, 50)[0]?.measured).toBe('0.80 ×, the median of the rounds; medians 40/s ÷ 50/s = 0.80 ×');
  });

  it("judges the median of the rounds' own ratios when there are rounds, not the ratio of the medians", () => {
    const rounds = (roundRatios: number[]) =>
      tracingTargets({ traced: measure(40), untraced: measure(50), roundRatios, trace: undefined, settings })[0];
    expect(rounds([0.77, 0.92, 0.67])).toMatchObject({ pass: false });
    expect(rounds([0.77, 0.92, 0.67])?.measured).toMatch(/^0\.77 ×, the median of the rounds \(0\.67–0\.92\)/);
    expect(rounds([0.81, 0.79, 0.85])).toMatchObject({ pass: true });
  });

  it('wants at most 40 spans in a whole trace, from all five apps', () => {
    const [, spans, apps] = judged(40, 50, trace(40));
    expect([spans?.pass, apps?.pass]).toEqual([true, true]);
    expect(judged(40, 50, trace(41))[1]?.pass).toBe(false);
    expect(judged(40, 50, trace(30, ['orderprocessing', 'inventory', 'payments', 'shipping']))[2]).toMatchObject({
      pass: false,
      measured: 'missing notifications',
    });
  });

  it('does not pass a trace that was still growing, nor an empty one', () => {
    expect(judged(40, 50, trace(20, APP_IDS, false))[1]?.pass).toBe(false);
    expect(judged(40, 50, trace(0, APP_IDS))[1]?.pass).toBe(false);
  });
});

describe('tracingPlan', () => {
  it('warms both stacks up, then alternates which runs first, round by round', () => {
    const plan = tracingPlan({ ...settings, rounds: 3, warmUpCount: 50, warmUpSeconds: 10, durationSeconds: 30 });
    expect(plan.map(({ side, spec }) => `${side} ${spec.round}${spec.warmUp ? ' warm-up' : ''}`)).toEqual([
      'traced 0 warm-up',
      'untraced 0 warm-up',
      'traced 1',
      'untraced 1',
      'untraced 2',
      'traced 2',
      'traced 3',
      'untraced 3',
    ]);
    expect(new Set(plan.map(({ spec }) => spec.name)).size).toBe(plan.length);
  });
});
