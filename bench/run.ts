// `npm run bench`: orders per second and latency against the engine's own floor, in one run, on a private
// stack; prints a table and writes bench/results/ and the README's Benchmark section. What it measures and
// its knobs: the README's "Benchmark" and docs/architecture.md, "The benchmark".
//
//   npm run bench -- [--concurrency 30] [--duration 30s] [--latency-count 50] [--no-readme] [--tracing] …

import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaprWorkflowClient } from '@dapr/dapr';
import { Agent } from 'undici';
import { bootstrap } from '../scripts/bootstrap.ts';
import { Service, signalGroup } from '../scripts/lib/proc.ts';
import { repoRoot } from '../scripts/lib/runtime.ts';
import { type AppEndpoints, TestStack } from '../scripts/lib/stack.ts';
import { formatDuration, info, main, ScriptError, step } from '../scripts/lib/ui.ts';
import { FLOOR_APP_ID, ORDER_STEPS } from './floor.ts';
import { floorWorkerArgs } from './floorLaunch.ts';
import { type PhaseKind, type PhaseResult, type PhaseSpec, type Progress, runPhase } from './load.ts';
import { type BenchOptions, benchOptions } from './options.ts';
import {
  type BenchResult,
  type Machine,
  machine,
  targets,
  textTable,
  updateReadme,
  versions,
  writeResults,
} from './report.ts';
import { type PhaseUsage, UsageSampler, type Watched } from './rss.ts';
import { firstSucceeds, quietWorkflowClient, type Workload, workloads } from './workloads.ts';

const STOCK = 'milk=1000000,bread=1000000,apples=1000000,oranges=1000000,iPhone=1000000';
const MAX_ITEMS_PER_PHASE = 20_000;
const APP_IDS = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];

function progressLine(progress: Progress, spec: PhaseSpec): string {
  const elapsed = progress.elapsedMs / 1000;
  const rate = elapsed > 0 ? (progress.completed / elapsed).toFixed(1) : '0';
  return `  … ${spec.name}: ${elapsed.toFixed(0)}/${Math.round(spec.durationMs / 1000)} s, ${progress.completed} done, ${progress.inFlight} in flight, ${progress.errors} errors, ${rate}/s`;
}

/** The apps' environment: stock for any run, a quiet orderprocessing, the experiment's own, CPU profiles. */
function appEnvironmentFor(settings: BenchOptions): Record<string, Record<string, string>> {
  const appEnv: Record<string, Record<string, string>> = {
    inventory: { INVENTORY_STOCK: STOCK },
    orderprocessing: { LOG_LEVEL: 'warn', RATE_LIMIT_ORDERS_PER_MINUTE: '10000000' },
  };
  for (const [appId, entries] of Object.entries(settings.appEnv)) appEnv[appId] = { ...appEnv[appId], ...entries };
  if (settings.cpuProfDir) {
    const dir = resolve(settings.cpuProfDir);
    const preload = join(repoRoot, 'bench', 'cpu-profile.mjs');
    for (const appId of APP_IDS) {
      const given = appEnv[appId]?.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? '';
      appEnv[appId] = {
        ...appEnv[appId],
        NODE_OPTIONS: `${given} --import=${preload}`.trim(),
        BENCH_CPU_PROF_DIR: dir,
        BENCH_CPU_PROF_NAME: appId,
      };
    }
    info(`V8 CPU profiles of the five apps go to ${dir} (written when they stop)`);
  }
  return appEnv;
}

/**
 * The phases in order: each workload's warm-up, each at 1 in flight, then each under the sustained load,
 * the orders' first: the floor's workflows share the scheduler and Redis, and the thousands of its
 * sustained phases would otherwise still be in both (the scheduler's jobs history, the workflows' state)
 * while the stack's memory and CPU under order load are measured.
 */
function phasePlan(settings: BenchOptions, work: Record<PhaseKind, Workload>): { spec: PhaseSpec; one: Workload }[] {
  const c = settings.concurrency;
  const warm = Math.min(10, c);
  const shapes = {
    'warm-up': (kind: PhaseKind): PhaseSpec => ({
      name: `${kind} warm-up ×${warm}`,
      kind,
      concurrency: warm,
      durationMs: settings.warmUpSeconds * 1000,
      maxCount: settings.warmUpCount,
      warmUp: true,
    }),
    latency: (kind: PhaseKind): PhaseSpec => ({
      name: `${kind} ×1`,
      kind,
      concurrency: 1,
      durationMs: settings.latencySeconds * 1000,
      maxCount: settings.latencyCount,
    }),
    load: (kind: PhaseKind): PhaseSpec => ({
      name: `${kind} ×${c}`,
      kind,
      concurrency: c,
      durationMs: settings.durationSeconds * 1000,
      maxCount: MAX_ITEMS_PER_PHASE,
    }),
  };
  const phase = (kind: PhaseKind, shape: keyof typeof shapes) => ({ spec: shapes[shape](kind), one: work[kind] });
  return [
    ...(['floor', 'calls', 'orders'] as const).map((kind) => phase(kind, 'warm-up')),
    ...(['floor', 'calls', 'orders'] as const).map((kind) => phase(kind, 'latency')),
    ...(['orders', 'calls', 'floor'] as const).map((kind) => phase(kind, 'load')),
  ];
}

/** What the phases measured. */
interface Measured {
  phases: PhaseResult[];
  usage: PhaseUsage[];
  peakMiB: Record<string, number>;
}

/** Where and on what the run ran. */
interface RunContext {
  startedAt: string;
  box: Machine;
  versions: Record<string, string>;
}

/** One run of the benchmark: its stack, the floor's worker, the clients, and how it stops. */
class BenchRun {
  private floorWorker: Service | undefined;
  private readonly clients: DaprWorkflowClient[] = [];
  private readonly keptAlive = new Agent({ keepAliveTimeout: 30_000 });
  private sampler: UsageSampler | undefined;
  readonly abort = new AbortController();

  constructor(
    readonly stack: TestStack,
    private readonly settings: BenchOptions,
  ) {}

  private readonly killAll = () => {
    const pids = [...this.stack.pids(), ...(this.floorWorker?.pid ? [this.floorWorker.pid] : [])];
    for (const pid of pids) signalGroup(pid, 'SIGKILL');
  };

  /**
   * Ctrl+C: stop starting work and clean up; a second one kills everything at once. Once the stack runs,
   * TestStack's own handler kills its processes and exits right away (the floor worker goes on 'exit'),
   * so an interrupted run writes no results.
   */
  handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.abort.signal.aborted) {
        this.killAll();
        process.exit(130);
      }
      info(`\n${signal}: stopping the run and every process it started…`);
      this.abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.once('exit', this.killAll);
  }

  /** The stack, then the floor beside it: its own sidecar and a worker. Resolves to the floor's sidecar. */
  async start(): Promise<AppEndpoints> {
    const { stack, settings } = this;
    await step('starting a private stack (Redis, placement, scheduler, 5 × daprd + app)', () => stack.start());
    if (this.abort.signal.aborted) throw new ScriptError('interrupted');
    const floorSidecar = await step('starting the floor: its own sidecar and a worker', async () => {
      const args = await floorWorkerArgs();
      const endpoints = await stack.startSidecar(FLOOR_APP_ID, true);
      const token = sidecarToken(stack, FLOOR_APP_ID);
      this.floorWorker = new Service(FLOOR_APP_ID, process.execPath, args, join(stack.logDir, `${FLOOR_APP_ID}.log`), {
        cwd: repoRoot,
        env: {
          ...process.env,
          DAPR_HOST: '127.0.0.1',
          APP_PORT: String(endpoints.appPort),
          DAPR_HTTP_PORT: String(endpoints.daprHttpPort),
          DAPR_GRPC_PORT: String(endpoints.daprGrpcPort),
          ...(token ? { DAPR_API_TOKEN: token } : {}),
          ...settings.appEnv[FLOOR_APP_ID],
        },
      });
      return endpoints;
    });
    info(`  logs in ${stack.logDir}${settings.keepLogs ? ' (kept)' : ' (removed at the end; --keep-logs keeps them)'}`);
    return floorSidecar;
  }

  /** The three workloads, each once it has completed a first item. */
  async workloads(floorSidecar: AppEndpoints): Promise<Record<PhaseKind, Workload>> {
    const floorClient = quietWorkflowClient(floorSidecar.daprGrpcPort, sidecarToken(this.stack, FLOOR_APP_ID));
    const orderClient = quietWorkflowClient(
      this.stack.endpoints('orderprocessing').daprGrpcPort,
      sidecarToken(this.stack, 'orderprocessing'),
    );
    this.clients.push(floorClient, orderClient);
    const work = workloads({
      floorClient,
      orderClient,
      ordersUrl: `${this.stack.url('orderprocessing')}/orders`,
      keptAlive: this.keptAlive,
      floorSteps: this.settings.floorSteps,
      timeoutSeconds: this.settings.timeoutSeconds,
    });
    const first = (what: string, kind: PhaseKind) => () => firstSucceeds(what, () => work[kind](-1), this.abort.signal);
    await step('waiting for the floor worker to take work', first('floor', 'floor'));
    await step('waiting for its calls to reach the services', first('calls', 'calls'));
    await step('waiting for a first order to complete', first('order', 'orders'));
    return work;
  }

  /** Every process of the stack and the floor, and the benchmark itself, sampled while the phases run. */
  private startSampling(): UsageSampler {
    const floorWorker = this.floorWorker;
    this.sampler = new UsageSampler((): Watched[] => [
      ...this.stack.processes().map(({ name, pid }) => ({
        name,
        pid,
        group: name.startsWith(FLOOR_APP_ID) ? ('floor' as const) : ('stack' as const),
      })),
      ...(floorWorker?.pid ? [{ name: FLOOR_APP_ID, pid: floorWorker.pid, group: 'floor' as const }] : []),
      { name: 'bench (load generator)', pid: process.pid, group: 'bench' as const },
    ]);
    this.sampler.start();
    return this.sampler;
  }

  /** Runs the plan's phases one after the other, sampling each, until done or interrupted. */
  async measure(work: Record<PhaseKind, Workload>): Promise<Measured> {
    const sampler = this.startSampling();
    const phases: PhaseResult[] = [];
    const { signal } = this.abort;
    for (const { spec, one } of phasePlan(this.settings, work)) {
      if (signal.aborted) break;
      if (spec.maxCount === 0) continue;
      const repeatsLatency = spec.concurrency === 1 && phases.some((p) => p.kind === spec.kind && !p.warmUp);
      if (this.settings.concurrency === 1 && repeatsLatency) continue;
      const began = Date.now();
      info(`▸ ${spec.name}: up to ${spec.maxCount} or ${Math.round(spec.durationMs / 1000)} s`);
      sampler.phase(spec.name);
      const result = await runPhase(spec, one, {
        signal,
        // A little over the SDK's own wait, which only covers the wait for completion.
        itemTimeoutMs: (this.settings.timeoutSeconds + 5) * 1000,
        onProgress: (progress) => info(progressLine(progress, spec)),
      });
      sampler.endPhase();
      phases.push(result);
      info(
        `✓ ${spec.name}: ${result.completed} done, ${result.errors} errors, p50 ${Math.round(result.latency.p50)} ms, p99 ${Math.round(result.latency.p99)} ms, ${result.perSecond}/s (${formatDuration(Date.now() - began)})`,
      );
      // Let the engine settle (reminders, state writes) before the next phase.
      if (!signal.aborted) await sleep(2000);
    }
    const usage = sampler.stop();
    return { phases, usage, peakMiB: sampler.overallPeaks() };
  }

  /** Stops the sampling, the clients and every process the run started, also after a failure. */
  async stop(): Promise<void> {
    this.sampler?.stop();
    await Promise.all([
      ...this.clients.map((client) => client.stop().catch(() => undefined)),
      this.keptAlive.close().catch(() => undefined),
    ]);
    await step('stopping every process the benchmark started', async () => {
      await this.floorWorker?.stop(5_000);
      await this.stack.stop();
    });
    process.off('exit', this.killAll);
  }
}

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
    info('an experiment (--cpu-prof, --app-env, --floor-steps or --tracing): the README keeps the last standard run');
  }
}

/** The run's result from what it measured, with the targets judged. */
function resultOf(run: BenchRun, settings: BenchOptions, context: RunContext, measured: Measured): BenchResult {
  const { phases, usage, peakMiB } = measured;
  const partial: Omit<BenchResult, 'targets'> = {
    startedAt: context.startedAt,
    finishedAt: new Date().toISOString(),
    complete: !run.abort.signal.aborted,
    machine: context.box,
    versions: context.versions,
    settings: (({ keepLogs: _k, cpuProfDir: _c, readme: _r, resultsDir: _d, ...rest }) => rest)(settings),
    phases,
    usage,
    peakMiB,
    stackProcesses: run.stack
      .processes()
      .map(({ name }) => name)
      .filter((name) => !name.startsWith(FLOOR_APP_ID)),
  };
  return { ...partial, targets: targets(partial) };
}

main(async () => {
  const settings = benchOptions();
  const startedAt = new Date().toISOString();
  const box = machine();
  info(
    `Benchmark: floor (${settings.floorSteps} no-op activities), floor + an order's Dapr calls, and orders; 1 in flight then ${settings.concurrency} for ${settings.durationSeconds} s, on ${box.cores} cores`,
  );
  await bootstrap({ reuseRunning: false, chromium: false });
  const runVersions = await versions();
  const stack = new TestStack({
    env: appEnvironmentFor(settings),
    extraApps: [FLOOR_APP_ID],
    keepLogs: settings.keepLogs,
    tracing: settings.tracing,
  });
  const run = new BenchRun(stack, settings);
  run.handleSignals();
  try {
    const work = await run.workloads(await run.start());
    const measured = await run.measure(work);
    box.loadAverageAfter = loadavg().map((value) => Math.round(value * 100) / 100);
    const result = resultOf(run, settings, { startedAt, box, versions: runVersions }, measured);
    publish(result, settings);
    if (!result.complete) throw new ScriptError('interrupted: the results written are partial');
  } finally {
    await run.stop();
  }
});

/** The token `appId`'s sidecar wants on its API (each app has its own). */
function sidecarToken(stack: TestStack, appId: string): string | undefined {
  return stack.credentials.apps[appId]?.daprApiToken;
}
