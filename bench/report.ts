// What a benchmark run produced: the machine and versions, each phase's figures, the targets with pass
// or fail, memory and CPU per process; as a terminal table, JSON and Markdown, and a README section.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { run } from '../scripts/lib/proc.ts';
import { daprBin, repoRoot } from '../scripts/lib/runtime.ts';
import { ORDER_SERVICES } from './floor.ts';
import type { PhaseResult } from './load.ts';
import type { PhaseUsage } from './rss.ts';

export interface Settings {
  stack: string;
  concurrency: number;
  durationSeconds: number;
  latencyCount: number;
  latencySeconds: number;
  warmUpCount: number;
  warmUpSeconds: number;
  timeoutSeconds: number;
  floorSteps: number;
  order: { customer: string; items: string[]; total: number };
  /** Extra environment per app, for experiments (empty for a standard run). */
  appEnv: Record<string, Record<string, string>>;
  /** Every span sampled into a private Zipkin (an experiment; a standard run traces nothing). */
  tracing: boolean;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

export interface Target {
  name: string;
  measured: string;
  limit: string;
  pass: boolean;
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  machine: Machine;
  versions: Record<string, string>;
  settings: Settings;
  phases: PhaseResult[];
  usage: PhaseUsage[];
  /** Highest RSS of each process over the whole run, in MiB. */
  peakMiB: Record<string, number>;
  /** Which processes make up the stack (the others are the floor's and the load generator). */
  stackProcesses: string[];
  targets: Target[];
}

export const RESULTS_DIR = join(repoRoot, 'bench', 'results');
const README = join(repoRoot, 'README.md');
export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';
/** 1.5 GB, in bytes. */
const STACK_RSS_LIMIT = 1.5e9;

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    loadAverageBefore: os.loadavg().map((value) => Math.round(value * 100) / 100),
    loadAverageAfter: [],
  };
}

function packageVersion(name: string): string {
  try {
    const file = join(repoRoot, 'node_modules', ...name.split('/'), 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function versions(): Promise<Record<string, string>> {
  const daprd = await run(daprBin('daprd'), ['--version']);
  const redis = await run('redis-server', ['--version']);
  // The code measured: the commit, and whether files the stack runs differed from it (a shared checkout).
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot });
  const dirty = await run(
    'git',
    ['status', '--porcelain', '--', 'services', 'components', 'dapr.yaml', 'package-lock.json'],
    {
      cwd: repoRoot,
    },
  );
  const changed = dirty.stdout.split('\n').filter(Boolean).length;
  return {
    code: `${head.stdout.trim() || 'unknown'}${changed > 0 ? ` + ${changed} uncommitted file(s) under services/ or components/` : ''}`,
    node: process.version,
    daprd: daprd.stdout.trim() || 'unknown',
    '@dapr/dapr': packageVersion('@dapr/dapr'),
    '@dapr/durabletask-js': packageVersion('@dapr/durabletask-js'),
    fastify: packageVersion('fastify'),
    redis: /v=(\S+)/.exec(redis.stdout)?.[1] ?? 'unknown',
  };
}

const measuredPhase = (phases: PhaseResult[], kind: PhaseResult['kind'], concurrency: number) =>
  phases.find((phase) => !phase.warmUp && phase.kind === kind && phase.concurrency === concurrency);

const ms = (value: number) => `${Math.round(value)} ms`;

/** The issue's targets, for a 2-core machine. */
export function targets(result: Omit<BenchResult, 'targets'>): Target[] {
  const c = result.settings.concurrency;
  const floor1 = measuredPhase(result.phases, 'floor', 1);
  const orders1 = measuredPhase(result.phases, 'orders', 1);
  const floorC = measuredPhase(result.phases, 'floor', c);
  const ordersC = measuredPhase(result.phases, 'orders', c);
  const list: Target[] = [];
  if (floor1 && orders1) {
    const limit = 1.5 * floor1.latency.p50;
    list.push({
      name: 'order p50 at 1 in flight ≤ 1.5 × floor p50',
      measured: ms(orders1.latency.p50),
      limit: `≤ ${ms(limit)} (floor ${ms(floor1.latency.p50)})`,
      pass: orders1.latency.p50 <= limit,
    });
  }
  if (ordersC) {
    list.push(
      {
        name: `orders/s at ${c} in flight ≥ 60`,
        measured: `${ordersC.perSecond}/s`,
        limit: '≥ 60/s',
        pass: ordersC.perSecond >= 60,
      },
      {
        name: `order p99 at ${c} in flight < 1 s`,
        measured: ms(ordersC.latency.p99),
        limit: '< 1000 ms',
        pass: ordersC.latency.p99 < 1000 && ordersC.completed > 0,
      },
      {
        name: `errors at ${c} in flight = 0`,
        measured: String(ordersC.errors),
        limit: '0',
        pass: ordersC.errors === 0 && !ordersC.aborted,
      },
    );
  }
  if (floorC && ordersC) {
    const limit = 0.8 * floorC.perSecond;
    list.push({
      name: 'orders/s ≥ 0.8 × floor workflows/s',
      measured: `${ordersC.perSecond}/s`,
      limit: `≥ ${Math.round(limit * 10) / 10}/s (floor ${floorC.perSecond}/s)`,
      pass: ordersC.perSecond >= limit,
    });
  }
  const underLoad = result.usage.find((usage) => usage.phase === ordersC?.name);
  if (underLoad) {
    const bytes = underLoad.stackPeakMiB * 2 ** 20;
    list.push({
      name: `stack RSS at ${c} orders in flight ≤ 1.5 GB`,
      measured: `${Math.round(bytes / 1e6)} MB (PSS ${Math.round((underLoad.stackPeakPssMiB * 2 ** 20) / 1e6)} MB)`,
      limit: '≤ 1500 MB',
      pass: bytes <= STACK_RSS_LIMIT,
    });
  }
  return list;
}

function phaseLabel(phase: PhaseResult, steps: number): string {
  const what = {
    floor: `floor (${steps} no-op activities)`,
    calls: 'floor + an order’s Dapr calls',
    orders: 'orders (POST → COMPLETED)',
  }[phase.kind];
  return phase.warmUp ? `${what}, warm-up` : what;
}

const times = (value: number) => `${(Math.round(value * 100) / 100).toFixed(2)} ×`;

/**
 * How close to the floor an order could come at best: the `calls` workload is the floor's steps making an
 * order's calls through the sidecars with empty handlers (bench/floor.ts), so an order, which does real
 * work behind those calls, cannot beat it. Undefined when the run has no such pair to compare.
 */
export function bestCase(result: Pick<BenchResult, 'phases' | 'settings'>): string | undefined {
  const c = result.settings.concurrency;
  const parts: string[] = [];
  const floor1 = measuredPhase(result.phases, 'floor', 1);
  const calls1 = measuredPhase(result.phases, 'calls', 1);
  if (floor1 && calls1 && floor1.latency.p50 > 0) {
    parts.push(
      `p50 ${ms(calls1.latency.p50)} at 1 in flight, ${times(calls1.latency.p50 / floor1.latency.p50)} the floor's (the target allows an order 1.5 ×)`,
    );
  }
  const floorC = measuredPhase(result.phases, 'floor', c);
  const callsC = measuredPhase(result.phases, 'calls', c);
  if (c > 1 && floorC && callsC && floorC.perSecond > 0) {
    parts.push(
      `${callsC.perSecond}/s at ${c} in flight, ${times(callsC.perSecond / floorC.perSecond)} the floor's rate (the target asks 0.8 ×)`,
    );
  }
  if (parts.length === 0) return undefined;
  return `At best, an order costs what its Dapr calls cost: the floor's steps, each making an order step's service invocation (to \`GET /healthz\`) and publishing its notifications (4 in all, to a topic nobody subscribes to), reach ${parts.join('; ')}.`;
}

const phaseRow = (phase: PhaseResult, steps: number) => [
  phaseLabel(phase, steps),
  String(phase.concurrency),
  String(phase.completed),
  String(phase.errors),
  ms(phase.latency.p50),
  ms(phase.latency.p95),
  ms(phase.latency.p99),
  ms(phase.latency.max),
  String(phase.perSecond),
];
const PHASE_HEADER = ['run', 'in flight', 'done', 'errors', 'p50', 'p95', 'p99', 'max', 'per s'];

/** The results as a plain-text table for the terminal. */
export function textTable(result: BenchResult): string {
  const rows = [
    PHASE_HEADER,
    ...result.phases.filter((p) => !p.warmUp).map((p) => phaseRow(p, result.settings.floorSteps)),
  ];
  const widths = PHASE_HEADER.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ');
  const out = rows.map(line);
  out.splice(1, 0, widths.map((width) => '─'.repeat(width)).join('  '));
  out.push('');
  for (const target of result.targets) {
    out.push(`${target.pass ? '✓' : '✗'} ${target.name}: ${target.measured} (${target.limit})`);
  }
  const best = bestCase(result);
  if (best) out.push(best.replaceAll('`', ''));
  const underLoad = result.usage.find(
    (u) => u.phase === measuredPhase(result.phases, 'orders', result.settings.concurrency)?.name,
  );
  if (underLoad) {
    const peaks = Object.entries(underLoad.peakMiB)
      .filter(([name]) => result.stackProcesses.includes(name))
      .sort((a, b) => b[1] - a[1])
      .map(([name, value]) => `${name} ${Math.round(value)}`)
      .join(', ');
    out.push(
      `peak under load (MiB): stack RSS ${Math.round(underLoad.stackPeakMiB)}, PSS ${Math.round(underLoad.stackPeakPssMiB)}; RSS ${peaks}`,
    );
  }
  return out.join('\n');
}

const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`;
const mdTable = (header: string[], rows: string[][], align?: string[]) =>
  [mdRow(header), mdRow(align ?? header.map((_, i) => (i === 0 ? '---' : '--:'))), ...rows.map(mdRow)].join('\n');

/** The part the README keeps: the results and the targets. */
export function summaryMarkdown(result: BenchResult): string {
  const { machine: m, versions: v, settings: s } = result;
  const when = result.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lines = [
    `Last run ${when}, on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; code ${v.code}; Node ${v.node}, daprd ${v.daprd}, @dapr/dapr ${v['@dapr/dapr']}, Redis ${v.redis}. Load average before ${m.loadAverageBefore.join(' / ')}, after ${m.loadAverageAfter.join(' / ')}.`,
    '',
    mdTable(
      PHASE_HEADER,
      result.phases.filter((p) => !p.warmUp).map((p) => phaseRow(p, s.floorSteps)),
    ),
    '',
    mdTable(
      ['target (2 cores)', 'measured', 'limit', ''],
      result.targets.map((t) => [t.name, t.measured, t.limit, t.pass ? '✓' : '✗']),
      ['---', '--:', '---', ':-:'],
    ),
  ];
  const best = bestCase(result);
  if (best) lines.push('', best);
  const busy = result.phases
    .filter((p) => !p.warmUp)
    .map((p) => {
      const usage = result.usage.find((u) => u.phase === p.name);
      return usage ? `${p.name} ${usage.watchedPercent}% / ${usage.machineBusyPercent}%` : undefined;
    })
    .filter(Boolean);
  if (busy.length > 0) {
    lines.push(
      '',
      `CPU of the whole machine, this run's processes / everything (other work on a shared machine slows a run): ${busy.join(', ')}.`,
    );
  }
  if (Object.keys(s.appEnv).length > 0)
    lines.push('', `**Experiment**: extra environment ${JSON.stringify(s.appEnv)}.`);
  if (!result.complete) lines.push('', '**This run was interrupted: its figures are partial.**');
  return lines.join('\n');
}

/** The whole report: the summary, settings, memory and CPU per process, errors. */
export function fullMarkdown(result: BenchResult): string {
  const s = result.settings;
  const measured = result.phases.filter((p) => !p.warmUp);
  const usageOf = (phase: PhaseResult) => result.usage.find((u) => u.phase === phase.name);
  const names = Object.keys(result.peakMiB);
  const lines = [
    `# Benchmark, ${result.startedAt}`,
    '',
    summaryMarkdown(result),
    '',
    '## Settings',
    '',
    `- Stack: ${s.stack}. Floor: a workflow of ${s.floorSteps} \`callActivity\` steps, each a no-op in its worker process (whose SDK worker is set up like orderprocessing's: same work-item limits), on its own sidecar (same daprd, flags, placement, scheduler and Redis state store as the stack).`,
    `- Floor + an order's Dapr calls: the floor's workflow on the same worker and sidecar, each of its ${ORDER_SERVICES.length} steps making the calls an order's step makes, with nothing behind them: one service invocation through both sidecars (\`GET /healthz\` of ${ORDER_SERVICES.join(', ')}, in turn) and the step's notifications published (the first step's "received" while its call runs, then one after each call; 4 in all) to a topic nobody subscribes to.`,
    `- Orders: \`POST /orders\` ${JSON.stringify(s.order)} (auto-approved), then \`waitForWorkflowCompletion\` on orderprocessing's sidecar until COMPLETED with \`success: true\`. Latency is from the POST (or the schedule call, for the floor) to the completion seen.`,
    ...(Object.keys(s.appEnv).length > 0
      ? [`- **Experiment**: extra environment per app ${JSON.stringify(s.appEnv)}.`]
      : []),
    `- Warm-up: up to ${s.warmUpCount} of each or ${s.warmUpSeconds} s at ${Math.min(10, s.concurrency)} in flight. Latency: 1 in flight, up to ${s.latencyCount} or ${s.latencySeconds} s. Load: ${s.concurrency} in flight for ${s.durationSeconds} s (closed loop: each finished item starts the next), the orders before the floor, so that the floor's workflows, which go through the same scheduler and Redis, are not in them yet while the stack is measured under order load. Errors: a non-202 answer, a status other than COMPLETED, an unsuccessful result, or no completion within ${s.timeoutSeconds} s.`,
    '',
    '## Memory: peak RSS per process, MiB (process and its children, sampled every 250 ms)',
    '',
    mdTable(
      ['process', ...measured.map((p) => `${p.kind} ×${p.concurrency}`), 'whole run'],
      [
        ...names.map((name) => [
          result.stackProcesses.includes(name) ? name : `${name} (not in the stack)`,
          ...measured.map((p) => String(Math.round(usageOf(p)?.peakMiB[name] ?? 0))),
          String(Math.round(result.peakMiB[name] ?? 0)),
        ]),
        [
          '**stack total, RSS** (highest sum at one sample)',
          ...measured.map((p) => `**${Math.round(usageOf(p)?.stackPeakMiB ?? 0)}**`),
          '',
        ],
        [
          'stack total, PSS (shared pages counted once)',
          ...measured.map((p) => String(Math.round(usageOf(p)?.stackPeakPssMiB ?? 0))),
          '',
        ],
      ],
    ),
    '',
    '## CPU per completed item, ms (CPU time of each process during the phase ÷ items done)',
    '',
    mdTable(
      ['process', ...measured.map((p) => `${p.kind} ×${p.concurrency}`)],
      [
        ...names.map((name) => [
          name,
          ...measured.map((p) => {
            const seconds = usageOf(p)?.cpuSeconds[name] ?? 0;
            return p.completed > 0 ? String(Math.round((seconds * 1000) / p.completed)) : '–';
          }),
        ]),
        ['machine busy, % of all cores', ...measured.map((p) => `${usageOf(p)?.machineBusyPercent ?? 0}%`)],
        ['… of which this run’s processes', ...measured.map((p) => `${usageOf(p)?.watchedPercent ?? 0}%`)],
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
export function writeResults(result: BenchResult, experiment: boolean, dir = RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = `${result.startedAt.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}${experiment ? '-experiment' : ''}`;
  const json = join(dir, `${stamp}.json`);
  const md = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  const markdown = fullMarkdown(result);
  writeFileSync(md, markdown);
  if (experiment) return [json, md];
  const latest = join(dir, 'latest.md');
  writeFileSync(latest, markdown);
  return [json, md, latest];
}

/** Rewrites the README between the bench markers; false when they are missing. */
export function updateReadme(result: BenchResult): boolean {
  if (!existsSync(README)) return false;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  const body = `${summaryMarkdown(result)}\n\nThe full report (memory and CPU per process): [bench/results/latest.md](bench/results/latest.md).`;
  writeFileSync(README, `${text.slice(0, start + README_START.length)}\n${body}\n${text.slice(end)}`);
  return true;
}
