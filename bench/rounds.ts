// The benchmark's rounds: every workload runs once per round, in an order that changes from one round to
// the next, so that none always runs last, on a state store already full of the others' workflows. Orders
// and the calls workload, which the targets compare, run side by side in every round: the machine's speed
// drifts by a fifth over minutes (bench/results/experiments.md), so a ratio is taken within a round, and
// the targets judge the median of the rounds' ratios. Each figure is reported with its spread (min–max).

import type { PhaseKind, PhaseResult, PhaseSpec } from './load.ts';
import type { Settings } from './report.ts';
import type { PhaseUsage } from './rss.ts';

/**
 * Each round's order, from the first, repeating after the third: orders and calls always next to each other,
 * each workload last in one round of three.
 */
export const ROUND_ORDERS: readonly (readonly PhaseKind[])[] = [
  ['orders', 'calls', 'floor'],
  ['floor', 'calls', 'orders'],
  ['floor', 'orders', 'calls'],
];
export const ROUND_ORDER: readonly PhaseKind[] = ROUND_ORDERS[0] ?? [];
/** The order the tables list the workloads in, whatever order they ran in. */
export const TABLE_ORDER: readonly PhaseKind[] = ['floor', 'calls', 'orders'];
/** No sustained phase starts more items than this, whatever its duration. */
export const MAX_ITEMS_PER_PHASE = 20_000;
/** The pause after each phase, for the engine to settle (reminders, state writes) before the next. */
export const SETTLE_SECONDS = 2;

/** The middle value (the mean of the two middle ones for an even count), unrounded; 0 for none. */
export function middle(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[at] ?? 0) : ((sorted[at - 1] ?? 0) + (sorted[at] ?? 0)) / 2;
}

/** The median to one decimal, as the report shows rates and times. */
export const median = (values: number[]): number => Math.round(middle(values) * 10) / 10;

/** A figure over the rounds: its median, and the lowest and highest round. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** What the plan needs of the settings. */
export type PlanSettings = Pick<
  Settings,
  'concurrency' | 'durationSeconds' | 'latencyCount' | 'latencySeconds' | 'warmUpCount' | 'warmUpSeconds' | 'rounds'
>;

/**
 * The phases in the order they run: each workload's warm-up once, then `rounds` rounds, each running every
 * workload at 1 in flight (latency) and then every workload under the sustained load (throughput), both in
 * the round's order (ROUND_ORDERS), of the workloads `kinds` names. At 1 in flight for the load too, a round
 * has the latency phases only.
 */
export function phasePlan(s: PlanSettings, kinds: readonly PhaseKind[] = ROUND_ORDER): PhaseSpec[] {
  const orderOf = (round: number) =>
    (ROUND_ORDERS[(round - 1) % ROUND_ORDERS.length] ?? ROUND_ORDER).filter((kind) => kinds.includes(kind));
  const warm = Math.min(10, s.concurrency);
  const plan: PhaseSpec[] = [];
  if (s.warmUpCount > 0) {
    for (const kind of TABLE_ORDER.filter((each) => kinds.includes(each))) {
      plan.push({
        name: `${kind} warm-up ×${warm}`,
        kind,
        concurrency: warm,
        durationMs: s.warmUpSeconds * 1000,
        maxCount: s.warmUpCount,
        warmUp: true,
        round: 0,
      });
    }
  }
  for (let round = 1; round <= s.rounds; round++) {
    const order = orderOf(round);
    const named = (kind: PhaseKind, concurrency: number) => `${kind} ×${concurrency}, round ${round}`;
    for (const kind of order) {
      const durationMs = s.latencySeconds * 1000;
      plan.push({ name: named(kind, 1), kind, concurrency: 1, durationMs, maxCount: s.latencyCount, round });
    }
    if (s.concurrency === 1) continue;
    for (const kind of order) {
      const durationMs = s.durationSeconds * 1000;
      const c = s.concurrency;
      plan.push({ name: named(kind, c), kind, concurrency: c, durationMs, maxCount: MAX_ITEMS_PER_PHASE, round });
    }
  }
  return plan;
}

/** The longest the plan can take, in seconds: every phase to its time limit, and the pauses between. */
export function longestSeconds(plan: PhaseSpec[]): number {
  return plan.reduce((total, spec) => total + spec.durationMs / 1000 + SETTLE_SECONDS, 0);
}

/** CPU time of the processes named during a phase per item it completed, in ms; undefined for none done. */
export function cpuMsPerItem(usage: PhaseUsage, processes: string[], completed: number): number | undefined {
  if (completed <= 0) return undefined;
  const seconds = processes.reduce((total, name) => total + (usage.cpuSeconds[name] ?? 0), 0);
  return Math.round((seconds * 1000 * 10) / completed) / 10;
}

/**
 * `mine` ÷ `theirs` of one figure, per round that has both (by round number), in `mine`'s order: a ratio
 * taken within each round, where the machine's drift between rounds cancels.
 */
export function ratiosByRound<T extends { round: number }>(
  mine: readonly T[],
  theirs: readonly T[],
  pick: (item: T) => number | undefined,
): number[] {
  return mine.flatMap((item) => {
    const other = theirs.find((each) => each.round === item.round);
    const [value, base] = [pick(item), other ? pick(other) : undefined];
    return value !== undefined && base !== undefined && base > 0 ? [value / base] : [];
  });
}

/** One round's figures of a workload, for ratios taken within the round. */
export interface RoundFigures {
  round: number;
  perSecond: number;
  p50: number;
  /** CPU per item of every process the workflow needs (the stack's, and the floor's worker and sidecar). */
  workloadCpuMs?: number;
}

/** One workload at one concurrency over the rounds: totals, and each figure's median and spread. */
export interface PhaseSummary {
  kind: PhaseKind;
  concurrency: number;
  rounds: number;
  completed: number;
  errors: number;
  aborted: boolean;
  p50: Spread;
  p95: Spread;
  p99: Spread;
  max: Spread;
  perSecond: Spread;
  /** CPU of the stack's processes (not the load generator's nor the floor's) per completed item, ms. */
  stackCpuMs?: Spread;
  /** Highest sum of the stack's RSS (and PSS) at one sample during the phase, MiB. */
  stackPeakMiB?: Spread;
  stackPeakPssMiB?: Spread;
  /** Share of the whole machine this run's processes used, and that was busy at all, %. */
  watchedPercent?: Spread;
  machineBusyPercent?: Spread;
  /** Each round's own figures, in the order of the rounds. */
  byRound: RoundFigures[];
}

/** The spread of `pick` over the rounds that have a value for it; undefined when none has. */
function spreadWhere<T>(rounds: T[], pick: (round: T) => number | undefined): Spread | undefined {
  const values = rounds.map(pick).filter((value): value is number => value !== undefined);
  return values.length > 0 ? spreadOf(values) : undefined;
}

/**
 * The measured phases (warm-ups left out) summed up per workload and concurrency, in the tables' order.
 * `workloadProcesses`: the stack's and the floor's (everything but the load generator).
 */
export function summarize(
  phases: PhaseResult[],
  usage: PhaseUsage[],
  stackProcesses: string[],
  workloadProcesses: string[] = stackProcesses,
): PhaseSummary[] {
  const measured = phases.filter((phase) => !phase.warmUp);
  const groups = new Map<string, PhaseResult[]>();
  for (const phase of measured) {
    const key = `${phase.concurrency} ${TABLE_ORDER.indexOf(phase.kind)}`;
    groups.set(key, [...(groups.get(key) ?? []), phase]);
  }
  const usageOf = (phase: PhaseResult) => usage.find((each) => each.phase === phase.name);
  return [...groups.values()]
    .map((rounds): PhaseSummary => {
      const first = rounds[0] as PhaseResult;
      const used = (pick: (u: PhaseUsage, phase: PhaseResult) => number | undefined) =>
        spreadWhere(rounds, (phase) => {
          const u = usageOf(phase);
          return u ? pick(u, phase) : undefined;
        });
      return {
        kind: first.kind,
        concurrency: first.concurrency,
        rounds: rounds.length,
        completed: rounds.reduce((total, phase) => total + phase.completed, 0),
        errors: rounds.reduce((total, phase) => total + phase.errors, 0),
        aborted: rounds.some((phase) => phase.aborted),
        p50: spreadOf(rounds.map((phase) => phase.latency.p50)),
        p95: spreadOf(rounds.map((phase) => phase.latency.p95)),
        p99: spreadOf(rounds.map((phase) => phase.latency.p99)),
        max: spreadOf(rounds.map((phase) => phase.latency.max)),
        perSecond: spreadOf(rounds.map((phase) => phase.perSecond)),
        stackCpuMs: used((u, phase) => cpuMsPerItem(u, stackProcesses, phase.completed)),
        stackPeakMiB: used((u) => u.stackPeakMiB),
        stackPeakPssMiB: used((u) => u.stackPeakPssMiB),
        watchedPercent: used((u) => u.watchedPercent),
        machineBusyPercent: used((u) => u.machineBusyPercent),
        byRound: rounds.map((phase) => {
          const u = usageOf(phase);
          const workloadCpuMs = u ? cpuMsPerItem(u, workloadProcesses, phase.completed) : undefined;
          return {
            round: phase.round,
            perSecond: phase.perSecond,
            p50: phase.latency.p50,
            ...(workloadCpuMs === undefined ? {} : { workloadCpuMs }),
          };
        }),
      };
    })
    .sort((a, b) => a.concurrency - b.concurrency || TABLE_ORDER.indexOf(a.kind) - TABLE_ORDER.indexOf(b.kind));
}

/** The summary of `kind` at `concurrency`, if the run has one. */
export function summaryOf(summaries: PhaseSummary[], kind: PhaseKind, concurrency: number): PhaseSummary | undefined {
  return summaries.find((summary) => summary.kind === kind && summary.concurrency === concurrency);
}
