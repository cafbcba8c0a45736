// `npm run bench`: orders per second and latency against the engine's own floor, in one run, on a private
// stack; prints a table and writes bench/results/ and the README's Benchmark section. What it measures and
// its knobs: the README's "Benchmark" and docs/architecture.md, "The benchmark".
//
//   npm run bench -- [--concurrency 30] [--duration 30s] [--latency-count 50] [--no-readme] [--tracing] …

import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DaprWorkflowClient, WorkflowRuntimeStatus } from '@dapr/dapr';
import ms from 'ms';
import { Agent, request } from 'undici';
import { quietClient } from '#shared/daprSdk.ts';
import { bootstrap } from '../scripts/bootstrap.ts';
import { Service, signalGroup } from '../scripts/lib/proc.ts';
import { repoRoot } from '../scripts/lib/runtime.ts';
import { TestStack } from '../scripts/lib/stack.ts';
import { formatDuration, info, main, ScriptError, step } from '../scripts/lib/ui.ts';
import { CALLS_WORKFLOW, FLOOR_APP_ID, FLOOR_WORKFLOW, type FloorInput, ORDER_STEPS } from './floor.ts';
import { type PhaseKind, type PhaseResult, type PhaseSpec, type Progress, runPhase } from './load.ts';
import {
  type BenchResult,
  machine,
  type Settings,
  targets,
  textTable,
  updateReadme,
  versions,
  writeResults,
} from './report.ts';
import { UsageSampler, type Watched } from './rss.ts';

const STOCK = 'milk=1000000,bread=1000000,apples=1000000,oranges=1000000,iPhone=1000000';
const ORDER = { customer: 'Bench', items: ['milk'], total: 12.5 };
const MAX_ITEMS_PER_PHASE = 20_000;

/** "30s", "1m", "500ms" or a number of seconds. */
function seconds(text: string, what: string): number {
  const value = text.trim();
  const match = /^\d+(?:\.\d+)?(ms|s|m)?$/.exec(value);
  if (!match) throw new ScriptError(`${what}: "${text}" is not a duration (e.g. 30s, 2m, 500ms)`);
  // A bare number is seconds here, where `ms` would read it as milliseconds.
  return match[1] ? ms(value as ms.StringValue) / 1000 : Number(value);
}

function integer(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ScriptError(`${what}: "${text}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** `--app-env orderprocessing:NODE_OPTIONS=--max-old-space-size=128`, repeatable: for experiments. */
function appEnvironment(entries: string[]): Record<string, Record<string, string>> {
  const env: Record<string, Record<string, string>> = {};
  for (const entry of entries) {
    const match = /^([a-z0-9-]+):([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
    if (!match) throw new ScriptError(`--app-env: "${entry}" is not <app>:<NAME>=<value>`);
    const [, appId = '', name = '', value = ''] = match;
    env[appId] = { ...env[appId], [name]: value };
  }
  return env;
}

function options(): Settings & {
  keepLogs: boolean;
  cpuProfDir: string | undefined;
  readme: boolean;
  resultsDir: string | undefined;
} {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      'latency-count': { type: 'string' },
      'warmup-count': { type: 'string' },
      timeout: { type: 'string' },
      'floor-steps': { type: 'string' },
      'keep-logs': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      'no-readme': { type: 'boolean' },
      'results-dir': { type: 'string' },
      'app-env': { type: 'string', multiple: true },
      tracing: { type: 'boolean' },
    },
  });
  const env = process.env;
  const tracing = values.tracing ?? env.BENCH_TRACING === '1';
  const durationSeconds = seconds(values.duration ?? env.BENCH_DURATION ?? '30s', 'duration');
  if (durationSeconds < 1 || durationSeconds > 600) throw new ScriptError('duration: from 1 s to 10 min');
  const timeoutSeconds = seconds(values.timeout ?? env.BENCH_TIMEOUT ?? '30s', 'timeout');
  if (timeoutSeconds < 1 || timeoutSeconds > 300) throw new ScriptError('timeout: from 1 s to 5 min');
  return {
    stack: `its own private stack on free loopback ports (scripts/lib/stack.ts), ${
      tracing
        ? 'tracing on: every span sampled, by the sidecars and the apps, into a private Zipkin'
        : 'tracing off (sampling 0, OTEL_SDK_DISABLED)'
    }`,
    tracing,
    concurrency: integer(values.concurrency ?? env.BENCH_CONCURRENCY ?? '30', 'concurrency', 1, 500),
    durationSeconds,
    latencyCount: integer(values['latency-count'] ?? env.BENCH_LATENCY_COUNT ?? '50', 'latency count', 1, 1000),
    latencySeconds: 15,
    warmUpCount: integer(values['warmup-count'] ?? env.BENCH_WARMUP_COUNT ?? '50', 'warm-up count', 0, 1000),
    warmUpSeconds: 10,
    timeoutSeconds,
    floorSteps: integer(values['floor-steps'] ?? env.BENCH_FLOOR_STEPS ?? String(ORDER_STEPS), 'floor steps', 1, 100),
    order: ORDER,
    appEnv: appEnvironment(values['app-env'] ?? []),
    keepLogs: values['keep-logs'] ?? env.BENCH_KEEP_LOGS === '1',
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    readme: !(values['no-readme'] ?? env.BENCH_NO_README === '1'),
    resultsDir: values['results-dir'] ?? env.BENCH_RESULTS_DIR,
  };
}

/** The SDK's client logs every call at INFO on the console, its logger options notwithstanding. */
function quiet(client: DaprWorkflowClient): DaprWorkflowClient {
  quietClient(client);
  return client;
}

function progressLine(progress: Progress, spec: PhaseSpec): string {
  const elapsed = progress.elapsedMs / 1000;
  const rate = elapsed > 0 ? (progress.completed / elapsed).toFixed(1) : '0';
  return `  … ${spec.name}: ${elapsed.toFixed(0)}/${Math.round(spec.durationMs / 1000)} s, ${progress.completed} done, ${progress.inFlight} in flight, ${progress.errors} errors, ${rate}/s`;
}

main(async () => {
  const settings = options();
  const startedAt = new Date().toISOString();
  const box = machine();
  info(
    `Benchmark: floor (${settings.floorSteps} no-op activities), floor + an order's Dapr calls, and orders; 1 in flight then ${settings.concurrency} for ${settings.durationSeconds} s, on ${box.cores} cores`,
  );
  await bootstrap({ reuseRunning: false, chromium: false });
  const runVersions = await versions();

  const appEnv: Record<string, Record<string, string>> = {
    inventory: { INVENTORY_STOCK: STOCK },
    orderprocessing: { LOG_LEVEL: 'warn', RATE_LIMIT_ORDERS_PER_MINUTE: '10000000' },
  };
  for (const [appId, entries] of Object.entries(settings.appEnv)) appEnv[appId] = { ...appEnv[appId], ...entries };
  if (settings.cpuProfDir) {
    const dir = resolve(settings.cpuProfDir);
    const preload = join(repoRoot, 'bench', 'cpu-profile.mjs');
    for (const appId of ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping']) {
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
  const stack = new TestStack({
    env: appEnv,
    extraApps: [FLOOR_APP_ID],
    keepLogs: settings.keepLogs,
    tracing: settings.tracing,
  });
  let floorWorker: Service | undefined;
  const clients: DaprWorkflowClient[] = [];
  const keptAlive = new Agent({ keepAliveTimeout: 30_000 });

  // Ctrl+C: stop starting work and clean up; a second one kills everything at once. Once the stack runs,
  // TestStack's own handler kills its processes and exits right away (the floor worker goes on 'exit'),
  // so an interrupted run writes no results.
  const abort = new AbortController();
  const killAll = () => {
    for (const pid of [...stack.pids(), ...(floorWorker?.pid ? [floorWorker.pid] : [])]) signalGroup(pid, 'SIGKILL');
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

  const phases: PhaseResult[] = [];
  let sampler: UsageSampler | undefined;
  try {
    await step('starting a private stack (Redis, placement, scheduler, 5 × daprd + app)', () => stack.start());
    if (abort.signal.aborted) throw new ScriptError('interrupted');
    const floorSidecar = await step('starting the floor: its own sidecar and a worker', async () => {
      const endpoints = await stack.startSidecar(FLOOR_APP_ID);
      floorWorker = new Service(
        FLOOR_APP_ID,
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'bench', 'floor.ts')],
        join(stack.logDir, `${FLOOR_APP_ID}.log`),
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            DAPR_HOST: '127.0.0.1',
            DAPR_HTTP_PORT: String(endpoints.daprHttpPort),
            DAPR_GRPC_PORT: String(endpoints.daprGrpcPort),
            ...(sidecarToken(stack) ? { DAPR_API_TOKEN: sidecarToken(stack) } : {}),
            ...settings.appEnv[FLOOR_APP_ID],
          },
        },
      );
      return endpoints;
    });
    info(`  logs in ${stack.logDir}${settings.keepLogs ? ' (kept)' : ' (removed at the end; --keep-logs keeps them)'}`);

    const token = sidecarToken(stack);
    const client = (port: number) =>
      quiet(
        new DaprWorkflowClient({
          daprHost: '127.0.0.1',
          daprPort: String(port),
          ...(token ? { daprApiToken: token } : {}),
        }),
      );
    const floorClient = client(floorSidecar.daprGrpcPort);
    const orderClient = client(stack.endpoints('orderprocessing').daprGrpcPort);
    clients.push(floorClient, orderClient);

    const runId = randomBytes(3).toString('hex');
    const timeout = settings.timeoutSeconds;

    const completed = async (wfClient: DaprWorkflowClient, id: string): Promise<void> => {
      const state = await wfClient.waitForWorkflowCompletion(id, true, timeout);
      if (!state) throw new Error('instance not found');
      if (state.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) {
        // Without the instance id, so that the report counts alike failures together.
        const failure = state.workflowFailureDetails?.getErrorMessage()?.replaceAll(id, '<id>');
        throw new Error(`${WorkflowRuntimeStatus[state.runtimeStatus]}${failure ? `: ${failure}` : ''}`);
      }
      const output = JSON.parse(state.serializedOutput ?? '{}') as { success?: boolean; message?: string };
      if (output.success !== true) throw new Error(`completed without success: ${output.message ?? '?'}`);
    };

    const onFloorWorker = (workflow: string) => async (index: number) => {
      const id = `${workflow}-${runId}-${index}-${randomBytes(2).toString('hex')}`;
      const input: FloorInput = {
        id,
        steps: settings.floorSteps,
        payload: { orderId: id, order: ORDER, approvalTimeoutMs: 86_400_000 },
      };
      await floorClient.scheduleNewWorkflow(workflow, input, id);
      await completed(floorClient, id);
    };
    const floorOne = onFloorWorker(FLOOR_WORKFLOW);
    const callsOne = onFloorWorker(CALLS_WORKFLOW);
    const ordersUrl = `${stack.url('orderprocessing')}/orders`;
    // undici's `request` over kept-alive connections, not `fetch`: the load generator shares the two cores
    // with the stack, and `fetch` cost it about 1.5 ms of CPU per order (its profile, 20 s at 30 in flight).
    const orderBody = JSON.stringify(ORDER);
    const orderOne = async () => {
      const response = await request(ordersUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: orderBody,
        dispatcher: keptAlive,
        headersTimeout: timeout * 1000,
        bodyTimeout: timeout * 1000,
      });
      const body = (await response.body.json().catch(() => ({}))) as { id?: string; message?: string };
      if (response.statusCode !== 202 || !body.id) {
        throw new Error(`POST /orders answered ${response.statusCode}${body.message ? `: ${body.message}` : ''}`);
      }
      await completed(orderClient, body.id);
    };

    // The first of each may meet a sidecar or worker still settling: try again for a minute.
    const firstOf = async (what: string, one: () => Promise<void>) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          return await one();
        } catch (error) {
          if (Date.now() > deadline || abort.signal.aborted) throw error;
          info(`  … ${what}: ${(error as Error).message}; trying again`);
          await sleep(1000);
        }
      }
    };
    await step('waiting for the floor worker to take work', () => firstOf('floor', () => floorOne(-1)));
    await step('waiting for its calls to reach the services', () => firstOf('calls', () => callsOne(-1)));
    await step('waiting for a first order to complete', () => firstOf('order', () => orderOne()));

    sampler = new UsageSampler((): Watched[] => [
      ...stack.processes().map(({ name, pid }) => ({
        name,
        pid,
        group: name.startsWith(FLOOR_APP_ID) ? ('floor' as const) : ('stack' as const),
      })),
      ...(floorWorker?.pid ? [{ name: FLOOR_APP_ID, pid: floorWorker.pid, group: 'floor' as const }] : []),
      { name: 'bench (load generator)', pid: process.pid, group: 'bench' as const },
    ]);
    sampler.start();

    const c = settings.concurrency;
    const warm = Math.min(10, c);
    const workloads: Record<PhaseKind, (index: number) => Promise<void>> = {
      floor: floorOne,
      calls: callsOne,
      orders: orderOne,
    };
    const phase = (kind: PhaseKind, shape: 'warm-up' | 'latency' | 'load') => {
      const spec: PhaseSpec =
        shape === 'warm-up'
          ? {
              name: `${kind} warm-up ×${warm}`,
              kind,
              concurrency: warm,
              durationMs: settings.warmUpSeconds * 1000,
              maxCount: settings.warmUpCount,
              warmUp: true,
            }
          : shape === 'latency'
            ? {
                name: `${kind} ×1`,
                kind,
                concurrency: 1,
                durationMs: settings.latencySeconds * 1000,
                maxCount: settings.latencyCount,
              }
            : {
                name: `${kind} ×${c}`,
                kind,
                concurrency: c,
                durationMs: settings.durationSeconds * 1000,
                maxCount: MAX_ITEMS_PER_PHASE,
              };
      return { spec, one: workloads[kind] };
    };
    const plan = [
      phase('floor', 'warm-up'),
      phase('calls', 'warm-up'),
      phase('orders', 'warm-up'),
      phase('floor', 'latency'),
      phase('calls', 'latency'),
      phase('orders', 'latency'),
      // The orders' sustained load first: the floor's workflows share the scheduler and Redis, and the
      // thousands of its sustained phases would otherwise still be in both (the scheduler's jobs history,
      // the workflows' state) while the stack's memory and CPU under order load are measured.
      phase('orders', 'load'),
      phase('calls', 'load'),
      phase('floor', 'load'),
    ];
    for (const { spec, one } of plan) {
      if (abort.signal.aborted) break;
      if (spec.maxCount === 0) continue;
      if (c === 1 && spec.concurrency === 1 && phases.some((p) => p.kind === spec.kind && !p.warmUp)) continue;
      const began = Date.now();
      info(`▸ ${spec.name}: up to ${spec.maxCount} or ${Math.round(spec.durationMs / 1000)} s`);
      sampler.phase(spec.name);
      const result = await runPhase(spec, one, {
        signal: abort.signal,
        // A little over the SDK's own wait, which only covers the wait for completion.
        itemTimeoutMs: (timeout + 5) * 1000,
        onProgress: (progress) => info(progressLine(progress, spec)),
      });
      sampler.endPhase();
      phases.push(result);
      info(
        `✓ ${spec.name}: ${result.completed} done, ${result.errors} errors, p50 ${Math.round(result.latency.p50)} ms, p99 ${Math.round(result.latency.p99)} ms, ${result.perSecond}/s (${formatDuration(Date.now() - began)})`,
      );
      // Let the engine settle (reminders, state writes) before the next phase.
      if (!abort.signal.aborted) await sleep(2000);
    }

    const usage = sampler.stop();
    box.loadAverageAfter = loadavg().map((value) => Math.round(value * 100) / 100);
    const partial: Omit<BenchResult, 'targets'> = {
      startedAt,
      finishedAt: new Date().toISOString(),
      complete: !abort.signal.aborted,
      machine: box,
      versions: runVersions,
      settings: (({ keepLogs: _k, cpuProfDir: _c, readme: _r, resultsDir: _d, ...rest }) => rest)(settings),
      phases,
      usage,
      peakMiB: sampler.overallPeaks(),
      stackProcesses: stack
        .processes()
        .map(({ name }) => name)
        .filter((name) => !name.startsWith(FLOOR_APP_ID)),
    };
    const result: BenchResult = { ...partial, targets: targets(partial) };
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
    if (!result.complete) throw new ScriptError('interrupted: the results written are partial');
  } finally {
    sampler?.stop();
    await Promise.all([
      ...clients.map((client) => client.stop().catch(() => undefined)),
      keptAlive.close().catch(() => undefined),
    ]);
    await step('stopping every process the benchmark started', async () => {
      await floorWorker?.stop(5_000);
      await stack.stop();
    });
    process.off('exit', killAll);
  }
});

/** The token the stack's sidecars want on their APIs, when the stack sets one. */
function sidecarToken(stack: TestStack): string | undefined {
  const credentials = (stack as unknown as { credentials?: { env?: Record<string, string> } }).credentials;
  return credentials?.env?.DAPR_API_TOKEN;
}
