import { describe, expect, it } from 'vitest';
import type { PhaseKind, PhaseResult } from './load.ts';
import {
  cpuMsPerItem,
  longestSeconds,
  median,
  type PlanSettings,
  phasePlan,
  ROUND_ORDER,
  ratiosByRound,
  SETTLE_SECONDS,
  spreadOf,
  summarize,
} from './rounds.ts';
import type { PhaseUsage } from './rss.ts';

const SETTINGS: PlanSettings = {
  concurrency: 30,
  durationSeconds: 30,
  latencyCount: 50,
  latencySeconds: 15,
  warmUpCount: 50,
  warmUpSeconds: 10,
  rounds: 3,
};

describe('median and spread', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([5, 1, 100, 2])).toBe(3.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBe(0);
  });

  it('keeps one bad round from moving the figure', () => {
    expect(median([46.7, 12.1, 47.3])).toBe(46.7);
    expect(spreadOf([46.7, 12.1, 47.3])).toEqual({ median: 46.7, min: 12.1, max: 47.3 });
  });
});

describe('phasePlan', () => {
  const plan = phasePlan(SETTINGS);
  const measured = plan.filter((spec) => !spec.warmUp);
  const loadOrder = (round: number) =>
    measured.filter((spec) => spec.round === round && spec.concurrency === 30).map((spec) => spec.kind);

  it('warms each workload up once, before the rounds', () => {
    expect(plan.slice(0, 3).map((spec) => [spec.kind, spec.warmUp, spec.round])).toEqual([
      ['floor', true, 0],
      ['calls', true, 0],
      ['orders', true, 0],
    ]);
    expect(plan.slice(3).every((spec) => !spec.warmUp)).toBe(true);
    expect(phasePlan({ ...SETTINGS, warmUpCount: 0 }).some((spec) => spec.warmUp)).toBe(false);
  });

  it('changes the order from round to round: each workload last once, orders and calls always side by side', () => {
    expect([1, 2, 3].map(loadOrder)).toEqual([
      ['orders', 'calls', 'floor'],
      ['floor', 'calls', 'orders'],
      ['floor', 'orders', 'calls'],
    ]);
    for (const kind of ROUND_ORDER) {
      expect([1, 2, 3].filter((round) => loadOrder(round).at(-1) === kind)).toHaveLength(1);
    }
    for (const round of [1, 2, 3, 4]) {
      const order = phasePlan({ ...SETTINGS, rounds: 4 })
        .filter((spec) => spec.round === round && spec.concurrency === 30)
        .map((spec) => spec.kind);
      expect(Math.abs(order.indexOf('orders') - order.indexOf('calls'))).toBe(1);
    }
  });

  it('runs each round at 1 in flight before the load, every phase named apart', () => {
    const round2 = measured.filter((spec) => spec.round === 2).map((spec) => spec.name);
    expect(round2).toEqual([
      'floor ×1, round 2',
      'calls ×1, round 2',
      'orders ×1, round 2',
      'floor ×30, round 2',
      'calls ×30, round 2',
      'orders ×30, round 2',
    ]);
    expect(new Set(plan.map((spec) => spec.name)).size).toBe(plan.length);
  });

  it('has the latency phases only when the load is 1 in flight too', () => {
    const single = phasePlan({ ...SETTINGS, concurrency: 1, rounds: 2 }).filter((spec) => !spec.warmUp);
    expect(single.map((spec) => spec.concurrency)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('knows the longest it can take: every phase to its time limit and a pause after each', () => {
    const oneRound = phasePlan({ ...SETTINGS, rounds: 1 });
    expect(longestSeconds(oneRound)).toBe(3 * 10 + 3 * 15 + 3 * 30 + 9 * SETTLE_SECONDS);
  });
});

const STACK = ['orderprocessing', 'orderprocessing-daprd', 'redis'];

function usage(phase: string, cpuSeconds: Record<string, number>, stackPeakMiB = 1400): PhaseUsage {
  return {
    phase,
    seconds: 30,
    stackPeakMiB,
    stackPeakPssMiB: stackPeakMiB / 2,
    peakMiB: {},
    cpuSeconds,
    machineBusyPercent: 90,
    watchedPercent: 85,
  };
}

describe('ratiosByRound', () => {
  it('pairs rounds by their number, and leaves out a round that lacks one side or a figure', () => {
    const mine = [
      { round: 1, rate: 60 },
      { round: 2, rate: 45 },
      { round: 3, rate: undefined },
    ];
    const theirs = [
      { round: 3, rate: 10 },
      { round: 2, rate: 50 },
      { round: 4, rate: 99 },
    ];
    expect(ratiosByRound(mine, theirs, (each) => each.rate)).toEqual([0.9]);
    expect(ratiosByRound(theirs, mine, (each) => each.rate)).toEqual([50 / 45]);
    expect(ratiosByRound(mine, [{ round: 1, rate: 0 }], (each) => each.rate)).toEqual([]);
  });
});

describe('cpuMsPerItem', () => {
  it('adds the CPU of the stack’s processes only, per item done', () => {
    const cpu = {
      orderprocessing: 6,
      'orderprocessing-daprd': 3,
      redis: 1,
      benchfloor: 50,
      'bench (load generator)': 9,
    };
    expect(cpuMsPerItem(usage('x', cpu), STACK, 1000)).toBe(10);
    expect(cpuMsPerItem(usage('x', { orderprocessing: 1 }), STACK, 3)).toBe(333.3);
  });

  it('has no figure for a phase that completed nothing', () => {
    expect(cpuMsPerItem(usage('x', { orderprocessing: 6 }), STACK, 0)).toBeUndefined();
  });
});

function phase(kind: PhaseKind, concurrency: number, round: number, perSecond: number, p50: number): PhaseResult {
  return {
    name: `${kind} ×${concurrency}, round ${round}`,
    kind,
    concurrency,
    warmUp: round === 0,
    round,
    seconds: 30,
    completed: Math.round(perSecond * 30),
    errors: round === 2 ? 1 : 0,
    errorSamples: [],
    latency: { p50, p95: p50 * 1.5, p99: p50 * 2, max: p50 * 3, mean: p50 },
    perSecond,
    aborted: false,
  };
}

describe('summarize', () => {
  const phases = [
    phase('orders', 10, 0, 1, 9999), // a warm-up counts for nothing
    phase('orders', 30, 1, 50, 600),
    phase('calls', 30, 1, 90, 300),
    phase('calls', 30, 2, 80, 330),
    phase('orders', 30, 2, 40, 700),
    phase('orders', 30, 3, 45, 650),
    phase('calls', 1, 1, 30, 25),
  ];
  const usages = [
    usage('orders ×30, round 1', { orderprocessing: 15 }, 1500), // 15 s for 1500 orders: 10 ms
    usage('orders ×30, round 2', { orderprocessing: 18 }, 1300), // 18 s for 1200: 15 ms
    usage('orders ×30, round 3', { orderprocessing: 16.2, benchfloor: 99 }, 1450), // 16.2 s for 1350: 12 ms
  ];
  const summaries = summarize(phases, usages, STACK, [...STACK, 'benchfloor']);

  it('lists each workload and concurrency once, in the tables’ order, warm-ups left out', () => {
    expect(summaries.map((s) => `${s.kind} ×${s.concurrency} (${s.rounds})`)).toEqual([
      'calls ×1 (1)',
      'calls ×30 (2)',
      'orders ×30 (3)',
    ]);
  });

  it('takes each figure’s median over the rounds, with the lowest and highest', () => {
    const orders = summaries.find((s) => s.kind === 'orders');
    expect(orders?.perSecond).toEqual({ median: 45, min: 40, max: 50 });
    expect(orders?.p50).toEqual({ median: 650, min: 600, max: 700 });
    expect(orders?.p99.median).toBe(1300);
    expect(orders?.stackCpuMs).toEqual({ median: 12, min: 10, max: 15 });
    expect(orders?.stackPeakMiB).toEqual({ median: 1450, min: 1300, max: 1500 });
    expect(summaries.find((s) => s.kind === 'calls' && s.concurrency === 30)?.perSecond.median).toBe(85);
  });

  it('keeps each round’s figures, its CPU per item counting the floor’s worker too', () => {
    const orders = summaries.find((s) => s.kind === 'orders');
    expect(orders?.byRound).toEqual([
      { round: 1, perSecond: 50, p50: 600, workloadCpuMs: 10 },
      { round: 2, perSecond: 40, p50: 700, workloadCpuMs: 15 },
      { round: 3, perSecond: 45, p50: 650, workloadCpuMs: 85.3 }, // (16.2 + 99) s for 1350
    ]);
    expect(summaries.find((s) => s.kind === 'calls' && s.concurrency === 1)?.byRound).toEqual([
      { round: 1, perSecond: 30, p50: 25 },
    ]);
  });

  it('adds up what was done and what failed over the rounds', () => {
    const orders = summaries.find((s) => s.kind === 'orders');
    expect(orders?.completed).toBe(1500 + 1200 + 1350);
    expect(orders?.errors).toBe(1);
  });

  it('has no usage figures for phases the sampler did not see', () => {
    expect(summaries.find((s) => s.kind === 'calls' && s.concurrency === 1)?.stackCpuMs).toBeUndefined();
  });
});
