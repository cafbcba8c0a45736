// The benchmark's targets (issue #23), for 2 cores with tracing off, each judged on the median of the rounds:
// orders against what the same run measured for the floor plus an order's Dapr calls (the best an order
// could do), the order's own latency, errors, the stack's memory, and the CPU the whole stack spends on an
// order. Pure functions of the run's summaries, so that each ✓ and ✗ can be tested.

import type { PhaseSummary, Spread } from './rounds.ts';
import { summaryOf } from './rounds.ts';

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
  /** The stack's summed RSS with the sustained load of orders in flight (bytes: 1.5 GB). */
  stackRssBytes: 1.5e9,
  /** CPU time of every process of the stack per order under the sustained load (ms). */
  stackCpuMsPerOrder: 20,
} as const;

const ms = (value: number) => `${Math.round(value)} ms`;
const oneDecimal = (value: number) => Math.round(value * 10) / 10;
const times = (value: number) => `${value.toFixed(2)} ×`;
const megabytes = (mib: number) => Math.round((mib * 2 ** 20) / 1e6);

/** ` (min–max)` when the rounds differ, else nothing: the spread beside a median. */
export function range(spread: Spread, format: (value: number) => string | number = String): string {
  return spread.min === spread.max ? '' : ` (${format(spread.min)}–${format(spread.max)})`;
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
    const limit = oneDecimal(LIMITS.ordersPerCallsRate * callsC.perSecond.median);
    const ratio = callsC.perSecond.median > 0 ? ordersC.perSecond.median / callsC.perSecond.median : 0;
    list.push({
      name: `orders/s at ${c} in flight ≥ ${LIMITS.ordersPerCallsRate} × calls/s`,
      measured: `${ordersC.perSecond.median}/s${range(ordersC.perSecond)}, ${times(ratio)}`,
      limit: `≥ ${limit}/s = ${LIMITS.ordersPerCallsRate} × calls ${callsC.perSecond.median}/s${range(callsC.perSecond)}`,
      pass: ordersC.perSecond.median >= limit && ordersC.completed > 0,
    });
  }
  if (orders1 && calls1) {
    const limit = oneDecimal(LIMITS.orderPerCallsP50 * calls1.p50.median);
    list.push({
      name: `order p50 at 1 in flight ≤ ${LIMITS.orderPerCallsP50} × calls p50`,
      measured: `${ms(orders1.p50.median)}${range(orders1.p50, Math.round)}`,
      limit: `≤ ${ms(limit)} = ${LIMITS.orderPerCallsP50} × calls ${ms(calls1.p50.median)}${range(calls1.p50, Math.round)}`,
      pass: orders1.p50.median <= limit && orders1.completed > 0,
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
  if (ordersC?.stackPeakMiB) {
    const rss = ordersC.stackPeakMiB;
    const pss = ordersC.stackPeakPssMiB;
    list.push({
      name: `stack RSS at ${c} orders in flight ≤ 1.5 GB`,
      measured: `${megabytes(rss.median)} MB${range(rss, megabytes)}${pss ? ` (PSS ${megabytes(pss.median)} MB)` : ''}`,
      limit: `≤ ${LIMITS.stackRssBytes / 1e6} MB`,
      pass: rss.median * 2 ** 20 <= LIMITS.stackRssBytes,
    });
  }
  if (ordersC?.stackCpuMs) {
    const cpu = ordersC.stackCpuMs;
    list.push({
      name: `stack CPU per order at ${c} in flight ≤ ${LIMITS.stackCpuMsPerOrder} ms`,
      measured: `${cpu.median} ms${range(cpu)}`,
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
