// One private stack as the benchmark drives it: the stack, the floor's worker beside it when asked for, the
// clients, a sampler of the memory and CPU of every process, and how it all stops, also on failure and
// Ctrl+C. bench/run.ts drives one (the standard run); bench/tracing.ts two (with and without tracing).

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaprWorkflowClient } from '@dapr/dapr';
import { Agent } from 'undici';
import { Service, signalGroup } from '../scripts/lib/proc.ts';
import { repoRoot } from '../scripts/lib/runtime.ts';
import type { TestStack } from '../scripts/lib/stack.ts';
import { formatDuration, info, ScriptError, step } from '../scripts/lib/ui.ts';
import { FLOOR_APP_ID } from './floor.ts';
import { floorWorkerArgs } from './floorLaunch.ts';
import { type PhaseResult, type PhaseSpec, type Progress, runPhase } from './load.ts';
import type { BenchOptions } from './options.ts';
import { SETTLE_SECONDS } from './rounds.ts';
import { type PhaseUsage, UsageSampler, type Watched } from './rss.ts';
import { firstSucceeds, floorWorkloads, orderWorkload, quietWorkflowClient, type Workload } from './workloads.ts';

function progressLine(progress: Progress, spec: PhaseSpec): string {
  const elapsed = progress.elapsedMs / 1000;
  const rate = elapsed > 0 ? (progress.completed / elapsed).toFixed(1) : '0';
  return `  … ${spec.name}: ${elapsed.toFixed(0)}/${Math.round(spec.durationMs / 1000)} s, ${progress.completed} done, ${progress.inFlight} in flight, ${progress.errors} errors, ${rate}/s`;
}

/**
 * Ctrl+C: stop starting work and clean up; a second one kills everything at once. Once a stack runs,
 * TestStack's own handler kills its processes and exits right away (the floor worker goes on 'exit'), so
 * an interrupted run writes no results. Returns what undoes it.
 */
export function handleSignals(abort: AbortController, runs: BenchRun[]): () => void {
  const killAll = () => {
    for (const run of runs) run.killAll();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      killAll();
      process.exit(130);
    }
    info(`\n${signal}: stopping the run and every process it started…`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', killAll);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
  };
}

export class BenchRun {
  private floorWorker: Service | undefined;
  private readonly clients: DaprWorkflowClient[] = [];
  private readonly keptAlive = new Agent({ keepAliveTimeout: 30_000 });
  private sampler: UsageSampler | undefined;

  constructor(
    readonly stack: TestStack,
    private readonly settings: BenchOptions,
    private readonly signal: AbortSignal,
    /** How the run names this stack in its progress lines, e.g. "traced". */
    private readonly label = 'a private stack',
  ) {}

  /** Every process group of the stack and the floor's worker: the last resort on exit. */
  killAll(): void {
    const pids = [...this.stack.pids(), ...(this.floorWorker?.pid ? [this.floorWorker.pid] : [])];
    for (const pid of pids) signalGroup(pid, 'SIGKILL');
  }

  private token(appId: string): string | undefined {
    return this.stack.credentials.apps[appId]?.daprApiToken;
  }

  async start(): Promise<void> {
    await step(`starting ${this.label} (Redis, placement, scheduler, 5 × daprd + app)`, () => this.stack.start());
    if (this.signal.aborted) throw new ScriptError('interrupted');
    info(
      `  logs in ${this.stack.logDir}${this.settings.keepLogs ? ' (kept)' : ' (removed at the end; --keep-logs keeps them)'}`,
    );
  }

  /**
   * The floor beside the stack: its own sidecar (the stack's flags, an app port as the apps' sidecars have)
   * and its worker, run as the apps are (bench/floorLaunch.ts); then its two workloads, once each has
   * completed a first item.
   */
  async floor(): Promise<Record<'floor' | 'calls', Workload>> {
    const { stack, settings } = this;
    const endpoints = await step('starting the floor: its own sidecar and a worker', async () => {
      const args = await floorWorkerArgs();
      const sidecar = await stack.startSidecar(FLOOR_APP_ID, true);
      const token = this.token(FLOOR_APP_ID);
      this.floorWorker = new Service(FLOOR_APP_ID, process.execPath, args, join(stack.logDir, `${FLOOR_APP_ID}.log`), {
        cwd: repoRoot,
        env: {
          ...process.env,
          DAPR_HOST: '127.0.0.1',
          APP_PORT: String(sidecar.appPort),
          DAPR_HTTP_PORT: String(sidecar.daprHttpPort),
          DAPR_GRPC_PORT: String(sidecar.daprGrpcPort),
          ...(token ? { DAPR_API_TOKEN: token } : {}),
          ...settings.appEnv[FLOOR_APP_ID],
        },
      });
      return sidecar;
    });
    const floorClient = quietWorkflowClient(endpoints.daprGrpcPort, this.token(FLOOR_APP_ID));
    this.clients.push(floorClient);
    const work = floorWorkloads({
      floorClient,
      floorSteps: settings.floorSteps,
      timeoutSeconds: settings.timeoutSeconds,
    });
    await step('waiting for the floor worker to take work', () =>
      firstSucceeds('floor', () => work.floor(-1), this.signal),
    );
    await step('waiting for its calls to reach the services', () =>
      firstSucceeds('calls', () => work.calls(-1), this.signal),
    );
    return work;
  }

  /** Orders on this stack, once a first one has completed. Resolves each to the order's id. */
  async orders(): Promise<(index: number) => Promise<string>> {
    const orderClient = quietWorkflowClient(
      this.stack.endpoints('orderprocessing').daprGrpcPort,
      this.token('orderprocessing'),
    );
    this.clients.push(orderClient);
    const work = orderWorkload({
      orderClient,
      ordersUrl: `${this.stack.url('orderprocessing')}/orders`,
      keptAlive: this.keptAlive,
      timeoutSeconds: this.settings.timeoutSeconds,
    });
    await step(`waiting for a first order to complete on ${this.label}`, () =>
      firstSucceeds('order', () => work(-1), this.signal),
    );
    return work;
  }

  /** Which of the stack's processes count as the stack (not the floor's). */
  stackProcesses(): string[] {
    return this.stack
      .processes()
      .map(({ name }) => name)
      .filter((name) => !name.startsWith(FLOOR_APP_ID));
  }

  /** Every process a workflow may need: the stack's, and the floor's sidecar and worker (not the load generator). */
  workloadProcesses(): string[] {
    return [...this.stack.processes().map(({ name }) => name), ...(this.floorWorker ? [FLOOR_APP_ID] : [])];
  }

  /** Every process of the stack and the floor, and the load generator, sampled from the first phase on. */
  private usageSampler(): UsageSampler {
    if (this.sampler) return this.sampler;
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

  /** Runs one phase, sampled, with progress lines; then lets the engine settle before the next. */
  async phase(spec: PhaseSpec, one: Workload): Promise<PhaseResult> {
    const sampler = this.usageSampler();
    const began = Date.now();
    info(`▸ ${spec.name}: up to ${spec.maxCount} or ${Math.round(spec.durationMs / 1000)} s`);
    sampler.phase(spec.name);
    const result = await runPhase(spec, one, {
      signal: this.signal,
      // A little over the SDK's own wait, which only covers the wait for completion.
      itemTimeoutMs: (this.settings.timeoutSeconds + 5) * 1000,
      onProgress: (progress) => info(progressLine(progress, spec)),
    });
    sampler.endPhase();
    info(
      `✓ ${spec.name}: ${result.completed} done, ${result.errors} errors, p50 ${Math.round(result.latency.p50)} ms, p99 ${Math.round(result.latency.p99)} ms, ${result.perSecond}/s (${formatDuration(Date.now() - began)})`,
    );
    // Let the engine settle (reminders, state writes) before the next phase.
    if (!this.signal.aborted) await sleep(SETTLE_SECONDS * 1000);
    return result;
  }

  /** What the sampler measured, per phase, and each process's peak over the run. */
  usage(): { usage: PhaseUsage[]; peakMiB: Record<string, number> } {
    const usage = this.sampler?.stop() ?? [];
    return { usage, peakMiB: this.sampler?.overallPeaks() ?? {} };
  }

  /** Stops the sampling, the clients and every process the run started, also after a failure. */
  async stop(): Promise<void> {
    this.sampler?.stop();
    await Promise.all([
      ...this.clients.map((client) => client.stop().catch(() => undefined)),
      this.keptAlive.close().catch(() => undefined),
    ]);
    await step(`stopping every process of ${this.label}`, async () => {
      await this.floorWorker?.stop(5_000);
      await this.stack.stop();
    });
  }
}
