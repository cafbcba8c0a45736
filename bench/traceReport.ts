// What `npm run bench -- --tracing` measured (issue #22): orders/s under load with every order traced against
// the same load with tracing off, in the same run, and the spans of one auto-approved order's trace; the
// targets with ✓ or ✗. Written like the other runs' results, as an experiment: never the README's table.

import type { PhaseResult } from './load.ts';
import { APP_IDS } from './options.ts';
import type { TraceCheck } from './orderTrace.ts';
import type { Settings } from './report.ts';
import { type RunRecord, runLine, writeResultFiles } from './results.ts';
import { middle, type PhaseSummary, ratiosByRound, type Spread, spreadOf } from './rounds.ts';
import type { PhaseUsage } from './rss.ts';
import type { Target } from './targets.ts';
import { range } from './targets.ts';

export const TRACING_LIMITS = { rateRatio: 0.8, spans: 40 } as const;

/** One of the two stacks: its phases (every round), what was sampled, and its orders under load over the rounds. */
export interface StackMeasure {
  phases: PhaseResult[];
  usage: PhaseUsage[];
  peakMiB: Record<string, number>;
  stackProcesses: string[];
  underLoad: PhaseSummary | undefined;
}

export interface TracingResult extends RunRecord<Settings> {
  traced: StackMeasure;
  untraced: StackMeasure;
  /** Traced ÷ untraced orders/s in each round (the two phases of a round ran one after the other). */
  roundRatios: number[];
  trace: TraceCheck | undefined;
  /** Why there is no trace check, when there is none. */
  traceError?: string;
  targets: Target[];
}

const twoDecimals = (value: number) => Math.round(value * 100) / 100;

/** Traced ÷ untraced orders/s of each round both stacks ran. */
export function roundRatios(traced: PhaseResult[], untraced: PhaseResult[]): number[] {
  const measured = (phases: PhaseResult[]) => phases.filter((phase) => !phase.warmUp);
  return ratiosByRound(measured(traced), measured(untraced), (phase) => phase.perSecond).map(twoDecimals);
}

/** Issue #22's targets, from what the run measured. */
export function tracingTargets(
  result: Pick<TracingResult, 'traced' | 'untraced' | 'roundRatios' | 'trace' | 'settings'>,
): Target[] {
  const list: Target[] = [];
  const traced = result.traced.underLoad;
  const untraced = result.untraced.underLoad;
  const c = result.settings.concurrency;
  if (traced && untraced && untraced.perSecond.median > 0) {
    // Judged on the median of the rounds' own ratios, each of two phases run one after the other, so that
    // the machine's drift between rounds cancels; unrounded: 0.798 is not 0.8.
    const ofMedians = traced.perSecond.median / untraced.perSecond.median;
    const ratios = result.roundRatios.length > 0 ? spreadOf(result.roundRatios) : undefined;
    const ratio = ratios ? middle(result.roundRatios) : ofMedians;
    list.push({
      name: `orders/s at ${c} in flight, every order traced ≥ ${TRACING_LIMITS.rateRatio} × without tracing`,
      measured: `${ratio.toFixed(2)} ×, the median of the rounds${ratios ? ` (${ratios.min.toFixed(2)}–${ratios.max.toFixed(2)})` : ''}; medians ${traced.perSecond.median}/s ÷ ${untraced.perSecond.median}/s = ${ofMedians.toFixed(2)} ×`,
      limit: `≥ ${TRACING_LIMITS.rateRatio} ×`,
      pass: ratio >= TRACING_LIMITS.rateRatio && traced.completed > 0,
    });
  }
  const trace = result.trace;
  if (trace) {
    list.push({
      name: `an auto-approved order's trace has ≤ ${TRACING_LIMITS.spans} spans`,
      measured: `${trace.spans}${trace.stable ? '' : ' (still growing when the wait ended)'}`,
      limit: `≤ ${TRACING_LIMITS.spans}`,
      pass: trace.spans > 0 && trace.spans <= TRACING_LIMITS.spans && trace.stable,
    });
    const missing = APP_IDS.filter((app) => !trace.services.includes(app));
    list.push({
      name: 'all five apps appear in it',
      measured: missing.length === 0 ? 'all five' : `missing ${missing.join(', ')}`,
      limit: APP_IDS.join(', '),
      pass: missing.length === 0,
    });
  }
  return list;
}

const ROW_HEADER = ['orders', 'in flight', 'rounds', 'done', 'errors', 'p50', 'p99', 'per s', 'stack CPU ms per order'];
const spreadCell = (spread: Spread | undefined, unit = '', format: (value: number) => number = (value) => value) =>
  spread ? `${format(spread.median)}${unit}${range(spread, format)}` : '–';
const row = (label: string, s: PhaseSummary) => [
  label,
  String(s.concurrency),
  String(s.rounds),
  String(s.completed),
  String(s.errors),
  spreadCell(s.p50, ' ms', Math.round),
  spreadCell(s.p99, ' ms', Math.round),
  spreadCell(s.perSecond),
  spreadCell(s.stackCpuMs),
];

const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`;
/** Columns right-aligned but the first `left`. */
const mdTable = (header: string[], rows: string[][], left = 1) =>
  [mdRow(header), mdRow(header.map((_, i) => (i < left ? '---' : '--:'))), ...rows.map(mdRow)].join('\n');

/** The rows of both stacks' orders under load. */
function rows(result: TracingResult): string[][] {
  const out: string[][] = [];
  if (result.traced.underLoad) out.push(row('every order traced', result.traced.underLoad));
  if (result.untraced.underLoad) out.push(row('tracing off', result.untraced.underLoad));
  return out;
}

const targetLine = (t: Target) => `${t.pass ? '✓' : '✗'} ${t.name}: ${t.measured}; limit ${t.limit}`;

/** The results for the terminal. */
export function tracingText(result: TracingResult): string {
  const lines = [mdTable(ROW_HEADER, rows(result)), '', ...result.targets.map(targetLine)];
  if (result.trace) lines.push('', traceLines(result.trace).join('\n'));
  if (result.traceError) lines.push('', `no trace checked: ${result.traceError}`);
  return lines.join('\n');
}

function traceLines(trace: TraceCheck): string[] {
  return [
    `The trace of order ${trace.orderId} (${trace.traceId}): ${trace.spans} spans from ${trace.services.join(', ')}; ${trace.stable ? `whole ${Math.round(trace.settledAfterMs / 100) / 10} s after the order completed` : 'still growing when the wait ended'}.`,
    '',
    mdTable(
      ['service', 'span', 'count'],
      trace.byName.map((entry) => [entry.service, `\`${entry.name}\``, String(entry.count)]),
      2,
    ),
  ];
}

/** The whole report, as Markdown. */
export function tracingMarkdown(result: TracingResult): string {
  const s = result.settings;
  const lines = [
    `# Benchmark: the cost of tracing, ${result.startedAt}`,
    '',
    runLine(result.startedAt, result.machine, result.versions),
    '',
    `Two private stacks, one tracing every order (every span sampled by the sidecars and the apps, into its own Zipkin), one with tracing off; after a warm-up of each, ${s.rounds} round(s) of ${s.durationSeconds} s of orders at ${s.concurrency} in flight on each, one stack at a time, the traced one first in odd rounds and second in even ones. Figures are medians of the rounds, (lowest–highest) where they differ; the stack's CPU leaves out the load generator and Zipkin.`,
    '',
    mdTable(ROW_HEADER, rows(result)),
    '',
    `Traced ÷ untraced orders/s, round by round (each round's two phases ran one after the other): ${result.roundRatios.map((ratio) => ratio.toFixed(2)).join(', ') || '–'}. The target judges the median of these.`,
    '',
    mdTable(
      ['target (issue #22)', 'measured', 'limit', ''],
      result.targets.map((t) => [t.name, t.measured, t.limit, t.pass ? '✓' : '✗']),
    ),
  ];
  if (result.trace) lines.push('', ...traceLines(result.trace));
  if (result.traceError) lines.push('', `No trace was checked: ${result.traceError}`);
  if (!result.complete) lines.push('', '**This run was interrupted: its figures are partial.**');
  return `${lines.join('\n')}\n`;
}

/** Writes `<stamp>-tracing-experiment.json` and `.md`: never `latest.md`, never the README. */
export function writeTracingResults(result: TracingResult, dir?: string): string[] {
  const files = {
    startedAt: result.startedAt,
    suffix: '-tracing-experiment',
    json: result,
    markdown: tracingMarkdown(result),
    latest: false,
  };
  return writeResultFiles(files, dir);
}
