// The benchmark's targets (issue #23), for 2 cores with tracing off. Orders are judged against what the same
// round measured for the floor plus an order's Dapr calls (the best an order could do): each round's ratio,
// and the median of the rounds' ratios, since the machine's speed drifts between rounds. Then the order's
// own latency, errors, the stack's memory and its CPU per order, each the median of the rounds. Pure
// functions of the run's summaries, so that each ✓ and ✗ can be tested. Why memory is judged as PSS (the
// issue said RSS): bench/results/experiments.md, "Issue #23: the machine drifts; memory as PSS".

import type { PhaseSummary, RoundFigures, Spread } from './rounds.ts';
import { middle, ratiosByRound, summaryOf } from './rounds.ts';

/** Orders ÷ calls of one figure, per round that measured both. */
const roundRatios = (orders: PhaseSummary, calls: PhaseSummary, pick: (figures: RoundFigures) => number | undefined) =>
  ratiosByRound(orders.byRound, calls.byRound, pick);

export interface Target {
  name: string;
  measured: string;
  limit: string;
  pass: boolean;
}

/** The limits the targets set. */
export const LIMITS = {
  /** Orders per second at the sustained load, at least this share of the calls workload's. */
  ordersPerCallsRate: 0.75,
  /** An order's p50 at 1 in flight, at most this many times the calls workload's. */
  orderPerCallsP50: 1.4,
  /** An order's p99 under the sustained load, under this (ms). */
  p99Ms: 1000,
  /** The stack's memory with the sustained load of orders in flight, shared pages counted once (PSS, bytes). */
  stackPssBytes: 1.5e9,
  /** CPU time of every process of the stack per order under the sustained load (ms). */
  stackCpuMsPerOrder: 20,
} as const;

const ms = (value: number) => `${Math.round(value)} ms`;
const times = (value: number) => `${value.toFixed(2)} ×`;
const megabytes = (mib: number) => Math.round((mib * 2 ** 20) / 1e6);

/** ` (min–max)` when the rounds differ, else nothing: the spread beside a median. */
export function range(spread: Spread, format: (value: number) => string | number = String): string {
  return spread.min === spread.max ? '' : ` (${format(spread.min)}–${format(spread.max)})`;
}

/** The median ratio and each round's, e.g. "0.66 × (rounds 0.91, 0.66, 0.57)". */
function ratioText(ratios: number[]): string {
  const each = ratios.length > 1 ? ` (rounds ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})` : '';
  return `${times(middle(ratios))}${each}`;
}

/** The targets the run can judge (a phase it did not run leaves its targets out). */
export function targets(summaries: PhaseSummary[], concurrency: number): Target[] {
  const c = concurrency;
  const orders1 = summaryOf(summaries, 'orders', 1);
  const calls1 = summaryOf(summaries, 'calls', 1);
  const ordersC = summaryOf(summaries, 'orders', c);
  const callsC = summaryOf(summaries, 'calls', c);
  const list: Target[] = [];
  if (ordersC && callsC) {
    const ratios = roundRatios(ordersC, callsC, (round) => round.perSecond);
    list.push({
      name: `orders/s at ${c} in flight ≥ ${LIMITS.ordersPerCallsRate} × calls/s`,
      measured: `${ordersC.perSecond.median}/s${range(ordersC.perSecond)}, ${ratioText(ratios)}`,
      limit: `≥ ${LIMITS.ordersPerCallsRate} × calls/s of the same round (calls ${callsC.perSecond.median}/s${range(callsC.perSecond)})`,
      pass: ratios.length > 0 && middle(ratios) >= LIMITS.ordersPerCallsRate && ordersC.completed > 0,
    });
  }
  if (orders1 && calls1) {
    const ratios = roundRatios(orders1, calls1, (round) => round.p50);
    list.push({
      name: `order p50 at 1 in flight ≤ ${LIMITS.orderPerCallsP50} × calls p50`,
      measured: `${ms(orders1.p50.median)}${range(orders1.p50, Math.round)}, ${ratioText(ratios)}`,
      limit: `≤ ${LIMITS.orderPerCallsP50} × calls p50 of the same round (calls ${ms(calls1.p50.median)}${range(calls1.p50, Math.round)})`,
      pass: ratios.length > 0 && middle(ratios) <= LIMITS.orderPerCallsP50 && orders1.completed > 0,
    });
  }
  if (ordersC) {
    list.push({
      name: `order p99 at ${c} in flight < 1 s`,
      measured: `${ms(ordersC.p99.median)}${range(ordersC.p99, Math.round)}`,
      limit: `< ${LIMITS.p99Ms} ms`,
      pass: ordersC.p99.median < LIMITS.p99Ms && ordersC.completed > 0,
    });
  }
  const orderPhases = summaries.filter((summary) => summary.kind === 'orders');
  if (orderPhases.length > 0) {
    const errors = orderPhases.reduce((total, summary) => total + summary.errors, 0);
    list.push({
      name: 'order errors = 0',
      measured: String(errors),
      limit: `0, in every round at ${[...new Set(orderPhases.map((summary) => summary.concurrency))].join(' and ')} in flight`,
      pass: errors === 0 && !orderPhases.some((summary) => summary.aborted),
    });
  }
  if (ordersC?.stackPeakPssMiB) {
    const pss = ordersC.stackPeakPssMiB;
    const rss = ordersC.stackPeakMiB;
    list.push({
      name: `stack memory at ${c} orders in flight ≤ 1.5 GB, shared pages counted once (PSS)`,
      measured: `${megabytes(pss.median)} MB${range(pss, megabytes)}${rss ? `; summed RSS ${megabytes(rss.median)} MB` : ''}`,
      limit: `≤ ${LIMITS.stackPssBytes / 1e6} MB`,
      pass: pss.median * 2 ** 20 <= LIMITS.stackPssBytes,
    });
  }
  if (ordersC?.stackCpuMs) {
    const cpu = ordersC.stackCpuMs;
    // Context: how an order's CPU compares with a calls workflow's in the same round (every process but the
    // load generator counted for both, the calls' worker and sidecar too).
    const ratios = callsC ? roundRatios(ordersC, callsC, (round) => round.workloadCpuMs) : [];
    list.push({
      name: `stack CPU per order at ${c} in flight ≤ ${LIMITS.stackCpuMsPerOrder} ms`,
      measured: `${cpu.median} ms${range(cpu)}${ratios.length > 0 ? `; ${ratioText(ratios)} a calls workflow's` : ''}`,
      limit: `≤ ${LIMITS.stackCpuMsPerOrder} ms, apps, sidecars, Redis, placement, scheduler and Sentry together`,
      pass: cpu.median <= LIMITS.stackCpuMsPerOrder,
    });
  }
  return list;
}

/**
 * Where the floor plus an order's Dapr calls stands against the floor itself: context for the targets,
 * which judge orders against the calls. Undefined when the run has no such pair to compare.
 */
export function bestCase(summaries: PhaseSummary[], concurrency: number): string | undefined {
  const parts: string[] = [];
  const floor1 = summaryOf(summaries, 'floor', 1);
  const calls1 = summaryOf(summaries, 'calls', 1);
  if (floor1 && calls1 && floor1.p50.median > 0) {
    parts.push(
      `p50 ${ms(calls1.p50.median)} at 1 in flight, ${times(calls1.p50.median / floor1.p50.median)} the floor's (${ms(floor1.p50.median)})`,
    );
  }
  const floorC = summaryOf(summaries, 'floor', concurrency);
  const callsC = summaryOf(summaries, 'calls', concurrency);
  if (concurrency > 1 && floorC && callsC && floorC.perSecond.median > 0) {
    parts.push(
      `${callsC.perSecond.median}/s at ${concurrency} in flight, ${times(callsC.perSecond.median / floorC.perSecond.median)} the floor's rate (${floorC.perSecond.median}/s)`,
    );
  }
  if (parts.length === 0) return undefined;
  return `The floor plus an order's Dapr calls, the best an order could do and what the targets compare orders with (the floor's steps, each making an order step's service invocation, to \`GET /healthz\`, and publishing its notifications, 4 in all, to a topic nobody subscribes to), reaches ${parts.join('; ')}.`;
}
