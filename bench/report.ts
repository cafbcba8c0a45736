// What a standard benchmark run produced: each workload's medians over the rounds with their spread, the
// targets with ✓ or ✗, memory and CPU per process, and every round's own figures; as a terminal table, JSON
// and Markdown, and the README's section.

import { ORDER_SERVICES } from './floor.ts';
import type { PhaseKind, PhaseResult } from './load.ts';
import { type RunRecord, replaceReadmeSection, runLine, writeResultFiles } from './results.ts';
import { cpuMsPerItem, median, type PhaseSummary, type Spread } from './rounds.ts';
import type { PhaseUsage } from './rss.ts';
import { bestCase, range, type Target } from './targets.ts';

export interface Settings {
  stack: string;
  concurrency: number;
  durationSeconds: number;
  latencyCount: number;
  latencySeconds: number;
  warmUpCount: number;
  warmUpSeconds: number;
  /** How many times each workload runs at each concurrency; the figures judged are their medians. */
  rounds: number;
  timeoutSeconds: number;
  floorSteps: number;
  order: { customer: string; items: string[]; total: number };
  /** Extra environment per app, for experiments (empty for a standard run). */
  appEnv: Record<string, Record<string, string>>;
  /** The tracing comparison (bench/tracing.ts) instead of the standard run. */
  tracing: boolean;
}

export interface BenchResult extends RunRecord<Settings> {
  /** Every phase, each round's apart, in the order they ran. */
  phases: PhaseResult[];
  usage: PhaseUsage[];
  /** Highest RSS of each process over the whole run, in MiB. */
  peakMiB: Record<string, number>;
  /** Which processes make up the stack (the others are the floor's and the load generator). */
  stackProcesses: string[];
  /** Each workload at each concurrency over the rounds. */
  summaries: PhaseSummary[];
  targets: Target[];
}

const LABELS: Record<PhaseKind, (steps: number) => string> = {
  floor: (steps) => `floor (${steps} no-op activities)`,
  calls: () => 'floor + an order’s Dapr calls',
  orders: () => 'orders (POST → COMPLETED)',
};

const ms = (value: number) => `${Math.round(value)} ms`;
const withRange = (spread: Spread, format: (value: number) => string) =>
  `${format(spread.median)}${range(spread, (value) => String(Math.round(value)))}`;

const SUMMARY_HEADER = ['run', 'in flight', 'rounds', 'done', 'errors', 'p50', 'p95', 'p99', 'max', 'per s'];
/** Medians, with the spread of the figures that matter most; done and errors are totals, max the highest. */
const summaryRow = (summary: PhaseSummary, steps: number) => [
  LABELS[summary.kind](steps),
  String(summary.concurrency),
  String(summary.rounds),
  String(summary.completed),
  String(summary.errors),
  withRange(summary.p50, ms),
  ms(summary.p95.median),
  withRange(summary.p99, ms),
  ms(summary.max.max),
  `${summary.perSecond.median}${range(summary.perSecond)}`,
];

const targetLine = (target: Target) =>
  `${target.pass ? '✓' : '✗'} ${target.name}: ${target.measured}; limit ${target.limit}`;

/** The results as a plain-text table for the terminal. */
export function textTable(result: BenchResult): string {
  const rows = [SUMMARY_HEADER, ...result.summaries.map((s) => summaryRow(s, result.settings.floorSteps))];
  const widths = SUMMARY_HEADER.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ');
  const out = rows.map(line);
  out.splice(1, 0, widths.map((width) => '─'.repeat(width)).join('  '));
  out.push('', `medians of ${result.settings.rounds} round(s), (lowest–highest round) where they differ`, '');
  out.push(...result.targets.map(targetLine));
  const best = bestCase(result.summaries, result.settings.concurrency);
  if (best) out.push(best.replaceAll('`', ''));
  return out.join('\n');
}

const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`;
const mdTable = (header: string[], rows: string[][], align?: string[]) =>
  [mdRow(header), mdRow(align ?? header.map((_, i) => (i === 0 ? '---' : '--:'))), ...rows.map(mdRow)].join('\n');

/** The part the README keeps: the medians, the targets, and how busy the machine was. */
export function summaryMarkdown(result: BenchResult): string {
  const { machine: m, versions: v, settings: s } = result;
  const lines = [
    runLine(result.startedAt, m, v),
    '',
    `Each figure is the median of ${s.rounds} round(s) (the workloads' order changing from round to round, orders and calls always side by side; the targets judge the median of each round's own ratio), with the lowest and highest round in brackets where they differ; done and errors are totals, max the highest.`,
    '',
    mdTable(
      SUMMARY_HEADER,
      result.summaries.map((summary) => summaryRow(summary, s.floorSteps)),
    ),
    '',
    mdTable(
      [`target (2 cores, tracing off, medians)`, 'measured', 'limit', ''],
      result.targets.map((t) => [t.name, t.measured, t.limit, t.pass ? '✓' : '✗']),
      ['---', '--:', '---', ':-:'],
    ),
  ];
  const best = bestCase(result.summaries, s.concurrency);
  if (best) lines.push('', best);
  const busy = result.summaries
    .filter((summary) => summary.watchedPercent && summary.machineBusyPercent)
    .map(
      (summary) =>
        `${summary.kind} ×${summary.concurrency} ${summary.watchedPercent?.median}% / ${summary.machineBusyPercent?.median}%`,
    );
  if (busy.length > 0) {
    lines.push(
      '',
      `CPU of the whole machine, this run's processes / everything (other work on a shared machine slows a run), medians: ${busy.join(', ')}.`,
    );
  }
  if (Object.keys(s.appEnv).length > 0)
    lines.push('', `**Experiment**: extra environment ${JSON.stringify(s.appEnv)}.`);
  if (!result.complete) lines.push('', '**This run was interrupted: its figures are partial.**');
  return lines.join('\n');
}

/** Every round's phases in the order they ran, with the stack's CPU per item and memory. */
function roundsTable(result: BenchResult): string {
  const rows = result.phases
    .filter((phase) => !phase.warmUp)
    .map((phase) => {
      const usage = result.usage.find((u) => u.phase === phase.name);
      const cpu = usage && cpuMsPerItem(usage, result.stackProcesses, phase.completed);
      return [
        String(phase.round),
        `${phase.kind} ×${phase.concurrency}`,
        String(phase.completed),
        String(phase.errors),
        ms(phase.latency.p50),
        ms(phase.latency.p99),
        String(phase.perSecond),
        cpu === undefined ? '–' : String(cpu),
        usage ? String(Math.round(usage.stackPeakMiB)) : '–',
      ];
    });
  return mdTable(
    ['round', 'phase', 'done', 'errors', 'p50', 'p99', 'per s', 'stack CPU ms per item', 'stack RSS MiB'],
    rows,
  );
}

/** Per process, the median over the rounds of `pick` for each workload and concurrency. */
function perProcess(
  result: BenchResult,
  pick: (usage: PhaseUsage, phase: PhaseResult, name: string) => number | undefined,
): (summary: PhaseSummary, name: string) => string {
  return (summary, name) => {
    const values = result.phases
      .filter((p) => !p.warmUp && p.kind === summary.kind && p.concurrency === summary.concurrency)
      .flatMap((phase) => {
        const usage = result.usage.find((u) => u.phase === phase.name);
        const value = usage && pick(usage, phase, name);
        return value === undefined ? [] : [value];
      });
    return values.length > 0 ? String(Math.round(median(values))) : '–';
  };
}

/** The whole report: the summary, settings, every round, memory and CPU per process, errors. */
export function fullMarkdown(result: BenchResult): string {
  const s = result.settings;
  const names = Object.keys(result.peakMiB);
  const columns = result.summaries.map((summary) => `${summary.kind} ×${summary.concurrency}`);
  const peak = perProcess(result, (usage, _, name) => usage.peakMiB[name]);
  const cpu = perProcess(result, (usage, phase, name) =>
    phase.completed > 0 ? ((usage.cpuSeconds[name] ?? 0) * 1000) / phase.completed : undefined,
  );
  const stackLabel = (name: string) => (result.stackProcesses.includes(name) ? name : `${name} (not in the stack)`);
  const lines = [
    `# Benchmark, ${result.startedAt}`,
    '',
    summaryMarkdown(result),
    '',
    '## Settings',
    '',
    `- Stack: ${s.stack}. Floor: a workflow of ${s.floorSteps} \`callActivity\` steps, each a no-op in its worker process (whose SDK worker is set up like orderprocessing's: same work-item limits; run as the apps run: a bundle, their Node flags, an app port), on its own sidecar (same daprd, flags, placement, scheduler and Redis state store as the stack).`,
    `- Floor + an order's Dapr calls: the floor's workflow on the same worker and sidecar, each of its ${ORDER_SERVICES.length} steps making the calls an order's step makes, with nothing behind them: one service invocation through both sidecars (\`GET /healthz\` of ${ORDER_SERVICES.join(', ')}, in turn) and the step's notifications published (the first step's "received" while its call runs, then one after each call; 4 in all) to a topic nobody subscribes to.`,
    `- Orders: \`POST /orders\` ${JSON.stringify(s.order)} (auto-approved), then \`waitForWorkflowCompletion\` on orderprocessing's sidecar until COMPLETED with \`success: true\`. Latency is from the POST (or the schedule call, for the floor) to the completion seen.`,
    ...(Object.keys(s.appEnv).length > 0
      ? [`- **Experiment**: extra environment per app ${JSON.stringify(s.appEnv)}.`]
      : []),
    `- Warm-up, once: up to ${s.warmUpCount} of each or ${s.warmUpSeconds} s at ${Math.min(10, s.concurrency)} in flight. Then ${s.rounds} round(s), each running every workload at 1 in flight (up to ${s.latencyCount} or ${s.latencySeconds} s) and then every workload at ${s.concurrency} in flight for ${s.durationSeconds} s (closed loop: each finished item starts the next), the workloads' order changing each round (orders, calls, floor; then floor, calls, orders; then floor, orders, calls; and again), so that none always runs last, on a store already full of the others' workflows, while orders and calls, which the targets compare, always run side by side. Errors: a non-202 answer, a status other than COMPLETED, an unsuccessful result, or no completion within ${s.timeoutSeconds} s.`,
    `- Stack CPU per item: the CPU time of the stack's processes (apps, sidecars, Redis, placement, scheduler, Sentry; not the load generator, not the floor's worker and sidecar) during the phase ÷ items done.`,
    '',
    '## Every round, in the order the phases ran',
    '',
    roundsTable(result),
    '',
    '## Memory: peak RSS per process, MiB, median of the rounds (process and its children, sampled every 250 ms)',
    '',
    mdTable(
      ['process', ...columns, 'whole run'],
      [
        ...names.map((name) => [
          stackLabel(name),
          ...result.summaries.map((summary) => peak(summary, name)),
          String(Math.round(result.peakMiB[name] ?? 0)),
        ]),
        [
          '**stack total, RSS** (highest sum at one sample)',
          ...result.summaries.map((summary) => `**${Math.round(summary.stackPeakMiB?.median ?? 0)}**`),
          '',
        ],
        [
          'stack total, PSS (shared pages counted once)',
          ...result.summaries.map((summary) => String(Math.round(summary.stackPeakPssMiB?.median ?? 0))),
          '',
        ],
      ],
    ),
    '',
    '## CPU per completed item, ms, median of the rounds (CPU time of each process during the phase ÷ items done)',
    '',
    mdTable(
      ['process', ...columns],
      [
        ...names.map((name) => [stackLabel(name), ...result.summaries.map((summary) => cpu(summary, name))]),
        ['**the stack**', ...result.summaries.map((summary) => `**${summary.stackCpuMs?.median ?? '–'}**`)],
        ['machine busy, % of all cores', ...result.summaries.map((x) => `${x.machineBusyPercent?.median ?? 0}%`)],
        ['… of which this run’s processes', ...result.summaries.map((x) => `${x.watchedPercent?.median ?? 0}%`)],
      ],
    ),
  ];
  const withErrors = result.phases.filter((p) => p.errorSamples.length > 0);
  if (withErrors.length > 0) {
    lines.push('', '## Errors', '');
    for (const phase of withErrors) {
      for (const sample of phase.errorSamples) {
        lines.push(`- ${phase.name}: ${sample.count} × ${sample.message.replaceAll('\n', ' ')}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `<stamp>.json` and `<stamp>.md` into `dir`, and `latest.md` for a standard run; an experiment's
 * files (or a run with --no-readme) are named `<stamp>-experiment.*` and leave `latest.md` alone. Returns
 * the paths.
 */
export function writeResults(result: BenchResult, experiment: boolean, dir?: string): string[] {
  const files = {
    startedAt: result.startedAt,
    suffix: experiment ? '-experiment' : '',
    json: result,
    markdown: fullMarkdown(result),
    latest: !experiment,
  };
  return writeResultFiles(files, dir);
}

/** Rewrites the README between the bench markers; false when they are missing. */
export function updateReadme(result: BenchResult): boolean {
  return replaceReadmeSection(
    `${summaryMarkdown(result)}\n\nThe full report (memory and CPU per process, every round): [bench/results/latest.md](bench/results/latest.md).`,
  );
}
