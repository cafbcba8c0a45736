// `npm run bench`: orders per second, latency, memory and CPU against the best an order could do, in rounds
// on a private stack; prints a table and writes bench/results/ and the README's Benchmark section. With
// --tracing, the cost of tracing instead (bench/tracing.ts). What it measures and its knobs: the README's
// "Benchmark" and docs/architecture.md, "The benchmark".
//
//   npm run bench -- [--concurrency 30] [--duration 30s] [--rounds 3] [--no-readme] [--tracing] …

import { resolve } from 'node:path';
import { bootstrap } from '../scripts/bootstrap.ts';
import { TestStack } from '../scripts/lib/stack.ts';
import { info, main, ScriptError } from '../scripts/lib/ui.ts';
import { BenchRun, handleSignals } from './benchRun.ts';
import { FLOOR_APP_ID, ORDER_STEPS } from './floor.ts';
import type { PhaseKind, PhaseResult } from './load.ts';
import { appEnvironmentFor, type BenchOptions, benchOptions, reportedSettings } from './options.ts';
import { type BenchResult, textTable, updateReadme, writeResults } from './report.ts';
import { finishedRun, loadAverage, machine, versions } from './results.ts';
import { longestSeconds, phasePlan, summarize } from './rounds.ts';
import { targets } from './targets.ts';
import type { Workload } from './workloads.ts';

/** About how long a stack and the floor take to start and take a first item each. */
const START_SECONDS = 60;

/** Prints the table and writes the results; a standard, complete run also rewrites the README's section. */
function publish(result: BenchResult, settings: BenchOptions): void {
  info('');
  info(textTable(result));
  info('');
  const experiment =
    settings.cpuProfDir !== undefined ||
    settings.tracing ||
    Object.keys(settings.appEnv).length > 0 ||
    settings.floorSteps !== ORDER_STEPS;
  const resultsDir = settings.resultsDir ? resolve(settings.resultsDir) : undefined;
  for (const file of writeResults(result, experiment || !settings.readme, resultsDir)) info(`wrote ${file}`);
  if (result.complete && settings.readme && !experiment) {
    info(updateReadme(result) ? 'updated the Benchmark section of README.md' : '! README.md has no bench markers');
  } else if (experiment) {
    info('an experiment (--cpu-prof, --app-env or --floor-steps): the README keeps the last standard run');
  }
}

/** The standard run: one stack and the floor, warmed up, then the rounds. */
async function standardRun(settings: BenchOptions): Promise<void> {
  const startedAt = new Date().toISOString();
  const box = machine();
  const plan = phasePlan(settings);
  const minutes = Math.ceil((START_SECONDS + longestSeconds(plan)) / 60);
  info(
    `Benchmark: floor (${settings.floorSteps} no-op activities), floor + an order's Dapr calls, and orders; ${settings.rounds} round(s) of each at 1 in flight and at ${settings.concurrency} for ${settings.durationSeconds} s, on ${box.cores} cores; at most about ${minutes} min`,
  );
  await bootstrap({ reuseRunning: false, chromium: false });
  const runVersions = await versions();
  const stack = new TestStack({
    env: appEnvironmentFor(settings),
    extraApps: [FLOOR_APP_ID],
    keepLogs: settings.keepLogs,
  });
  const abort = new AbortController();
  const run = new BenchRun(stack, settings, abort.signal);
  const unhandle = handleSignals(abort, [run]);
  try {
    await run.start();
    const work: Record<PhaseKind, Workload> = { ...(await run.floor()), orders: await run.orders() };
    const phases: PhaseResult[] = [];
    for (const spec of plan) {
      if (abort.signal.aborted) break;
      phases.push(await run.phase(spec, work[spec.kind]));
    }
    box.loadAverageAfter = loadAverage();
    const { usage, peakMiB } = run.usage();
    const stackProcesses = run.stackProcesses();
    const summaries = summarize(phases, usage, stackProcesses, run.workloadProcesses());
    const result: BenchResult = {
      ...finishedRun(
        { startedAt, machine: box, versions: runVersions, settings: reportedSettings(settings) },
        abort.signal,
      ),
      phases,
      usage,
      peakMiB,
      stackProcesses,
      summaries,
      targets: targets(summaries, settings.concurrency),
    };
    publish(result, settings);
    if (!result.complete) throw new ScriptError('interrupted: the results written are partial');
  } finally {
    await run.stop();
    unhandle();
  }
}

main(async () => {
  const settings = benchOptions();
  if (settings.tracing) await (await import('./tracing.ts')).tracingRun(settings);
  else await standardRun(settings);
});
