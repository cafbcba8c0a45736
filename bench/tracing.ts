// `npm run bench -- --tracing` (issue #22): what tracing every order costs, measured in one run on two private
// stacks side by side, one tracing everything into its own Zipkin and one with tracing off, load on only
// one at a time, in rounds that alternate which goes first; then one auto-approved order's trace, counted.
// Its results are an experiment's: the README's table keeps the last standard run.

import { resolve } from 'node:path';
import { bootstrap } from '../scripts/bootstrap.ts';
import { TestStack } from '../scripts/lib/stack.ts';
import { info, ScriptError, step } from '../scripts/lib/ui.ts';
import { BenchRun, handleSignals } from './benchRun.ts';
import type { PhaseResult, PhaseSpec } from './load.ts';
import { appEnvironmentFor, type BenchOptions, reportedSettings } from './options.ts';
import { checkOrderTrace } from './orderTrace.ts';
import { finishedRun, loadAverage, machine, versions } from './results.ts';
import { longestSeconds, MAX_ITEMS_PER_PHASE, summarize } from './rounds.ts';
import {
  roundRatios,
  type StackMeasure,
  type TracingResult,
  tracingTargets,
  tracingText,
  writeTracingResults,
} from './traceReport.ts';

type Side = 'traced' | 'untraced';
/** About how long the two stacks take to start and complete a first order each. */
const START_SECONDS = 90;

/**
 * Each stack's warm-up, then `rounds` rounds of the sustained load on each, the traced stack first in odd
 * rounds and second in even ones, so that neither always runs after the other.
 */
export function tracingPlan(settings: BenchOptions): { side: Side; spec: PhaseSpec }[] {
  const c = settings.concurrency;
  const plan: { side: Side; spec: PhaseSpec }[] = [];
  const warm = Math.min(10, c);
  if (settings.warmUpCount > 0) {
    for (const side of ['traced', 'untraced'] as const) {
      const durationMs = settings.warmUpSeconds * 1000;
      const spec = { name: `orders warm-up ×${warm}, ${side}`, kind: 'orders' as const, concurrency: warm, durationMs };
      plan.push({ side, spec: { ...spec, maxCount: settings.warmUpCount, warmUp: true, round: 0 } });
    }
  }
  for (let round = 1; round <= settings.rounds; round++) {
    const sides: Side[] = round % 2 === 1 ? ['traced', 'untraced'] : ['untraced', 'traced'];
    for (const side of sides) {
      const name = `orders ×${c}, ${side}, round ${round}`;
      const durationMs = settings.durationSeconds * 1000;
      plan.push({
        side,
        spec: { name, kind: 'orders', concurrency: c, durationMs, maxCount: MAX_ITEMS_PER_PHASE, round },
      });
    }
  }
  return plan;
}

/** What one stack measured, its orders under load summed up over the rounds (Zipkin is not the stack). */
function measureOf(run: BenchRun, phases: PhaseResult[], concurrency: number): StackMeasure {
  const { usage, peakMiB } = run.usage();
  const stackProcesses = run.stackProcesses().filter((name) => name !== 'zipkin');
  const underLoad = summarize(phases, usage, stackProcesses).find(
    (s) => s.kind === 'orders' && s.concurrency === concurrency,
  );
  return { phases, usage, peakMiB, stackProcesses, underLoad };
}

export async function tracingRun(settings: BenchOptions): Promise<void> {
  const startedAt = new Date().toISOString();
  const box = machine();
  const plan = tracingPlan(settings);
  const minutes = Math.ceil((START_SECONDS + longestSeconds(plan.map(({ spec }) => spec)) + 20) / 60);
  info(
    `Benchmark of tracing: orders at ${settings.concurrency} in flight for ${settings.durationSeconds} s, ${settings.rounds} round(s) on each of two stacks (every order traced; tracing off), then one order's trace; on ${box.cores} cores; at most about ${minutes} min`,
  );
  await bootstrap({ reuseRunning: false, chromium: false });
  const runVersions = await versions();
  const env = appEnvironmentFor(settings);
  const abort = new AbortController();
  const runs: Record<Side, BenchRun> = {
    traced: new BenchRun(
      new TestStack({ env, keepLogs: settings.keepLogs, tracing: true, spansSoon: false, zipkinHeapMb: 1536 }),
      settings,
      abort.signal,
      'the traced stack',
    ),
    untraced: new BenchRun(
      new TestStack({ env, keepLogs: settings.keepLogs }),
      settings,
      abort.signal,
      'the untraced stack',
    ),
  };
  const unhandle = handleSignals(abort, Object.values(runs));
  try {
    await runs.traced.start();
    await runs.untraced.start();
    const orders = { traced: await runs.traced.orders(), untraced: await runs.untraced.orders() };
    let trace: TracingResult['trace'];
    let traceError: string | undefined;
    // Before the load: one order's spans are the same on an idle stack, and Zipkin (in memory) answers
    // slowly once it holds the spans of thousands of traced orders.
    if (!abort.signal.aborted) {
      const zipkinUrl = runs.traced.stack.zipkinUrl;
      try {
        if (!zipkinUrl) throw new Error('the traced stack has no Zipkin');
        trace = await step('placing one order on the traced stack and reading its whole trace from Zipkin', async () =>
          checkOrderTrace(
            { zipkinUrl, orderprocessingUrl: runs.traced.stack.url('orderprocessing') },
            await orders.traced(-1),
          ),
        );
      } catch (error) {
        traceError = error instanceof Error ? error.message : String(error);
      }
    }
    const phases: Record<Side, PhaseResult[]> = { traced: [], untraced: [] };
    for (const { side, spec } of plan) {
      if (abort.signal.aborted) break;
      phases[side].push(await runs[side].phase(spec, orders[side]));
    }
    box.loadAverageAfter = loadAverage();
    const partial = {
      ...finishedRun(
        { startedAt, machine: box, versions: runVersions, settings: reportedSettings(settings) },
        abort.signal,
      ),
      traced: measureOf(runs.traced, phases.traced, settings.concurrency),
      untraced: measureOf(runs.untraced, phases.untraced, settings.concurrency),
      roundRatios: roundRatios(phases.traced, phases.untraced),
      trace,
      ...(traceError ? { traceError } : {}),
    };
    const result: TracingResult = { ...partial, targets: tracingTargets(partial) };
    info('');
    info(tracingText(result));
    info('');
    const dir = settings.resultsDir ? resolve(settings.resultsDir) : undefined;
    for (const file of writeTracingResults(result, dir)) info(`wrote ${file}`);
    info('an experiment (--tracing): the README keeps the last standard run');
    if (!result.complete) throw new ScriptError('interrupted: the results written are partial');
  } finally {
    await runs.untraced.stop();
    await runs.traced.stop();
    unhandle();
  }
}
