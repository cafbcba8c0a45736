// `npm run bench`'s command line and BENCH_* variables, read into the run's settings. Read before anything
// starts: a duration or count out of its range stops the run at once, naming the option, rather than after
// minutes of building a stack. The settings go into the report; the rest only say how the run runs.

import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ms from 'ms';
import { repoRoot } from '../scripts/lib/runtime.ts';
import { info, ScriptError } from '../scripts/lib/ui.ts';
import { ORDER_STEPS } from './floor.ts';
import type { BenchResult, Settings } from './report.ts';

const STOCK = 'milk=1000000,bread=1000000,apples=1000000,oranges=1000000,iPhone=1000000';
/** The five apps of dapr.yaml. */
export const APP_IDS = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];

/** What every order of the benchmark asks for. */
export const BENCH_ORDER = { customer: 'Bench', items: ['milk'], total: 12.5 };

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

/** What a run measures (in its report) and how it runs (not in its report). */
export interface BenchOptions extends Settings {
  keepLogs: boolean;
  cpuProfDir: string | undefined;
  readme: boolean;
  resultsDir: string | undefined;
}

/** The command line, and the BENCH_* variables for what it does not say. */
export function benchOptions(): BenchOptions {
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
      rounds: { type: 'string' },
    },
  });
  const env = process.env;
  const tracing = values.tracing ?? env.BENCH_TRACING === '1';
  const durationSeconds = seconds(values.duration ?? env.BENCH_DURATION ?? '30s', 'duration');
  if (durationSeconds < 1 || durationSeconds > 600) throw new ScriptError('duration: from 1 s to 10 min');
  const timeoutSeconds = seconds(values.timeout ?? env.BENCH_TIMEOUT ?? '30s', 'timeout');
  if (timeoutSeconds < 1 || timeoutSeconds > 300) throw new ScriptError('timeout: from 1 s to 5 min');
  return {
    stack: tracing
      ? 'two private stacks on free loopback ports (scripts/lib/stack.ts), one tracing every order (every span sampled, by the sidecars and the apps, into its own Zipkin), one with tracing off'
      : 'its own private stack on free loopback ports (scripts/lib/stack.ts), tracing off (sampling 0, OTEL_SDK_DISABLED)',
    tracing,
    concurrency: integer(values.concurrency ?? env.BENCH_CONCURRENCY ?? '30', 'concurrency', 1, 500),
    durationSeconds,
    // 200, not 50: the p50 of 50 orders moved a round's p50 ratio by ±0.1 (bench/results/experiments.md).
    latencyCount: integer(values['latency-count'] ?? env.BENCH_LATENCY_COUNT ?? '200', 'latency count', 1, 1000),
    latencySeconds: 15,
    warmUpCount: integer(values['warmup-count'] ?? env.BENCH_WARMUP_COUNT ?? '50', 'warm-up count', 0, 1000),
    warmUpSeconds: 10,
    // --tracing judges one ratio whose rounds spread by 0.2 on 2 cores: five rounds make its median steadier.
    rounds: integer(values.rounds ?? env.BENCH_ROUNDS ?? (tracing ? '5' : '3'), 'rounds', 1, 9),
    timeoutSeconds,
    floorSteps: integer(values['floor-steps'] ?? env.BENCH_FLOOR_STEPS ?? String(ORDER_STEPS), 'floor steps', 1, 100),
    order: BENCH_ORDER,
    appEnv: appEnvironment(values['app-env'] ?? []),
    keepLogs: values['keep-logs'] ?? env.BENCH_KEEP_LOGS === '1',
    cpuProfDir: values['cpu-prof'] ?? env.BENCH_CPU_PROF,
    readme: !(values['no-readme'] ?? env.BENCH_NO_README === '1'),
    resultsDir: values['results-dir'] ?? env.BENCH_RESULTS_DIR,
  };
}

/** The apps' environment: stock for any run, a quiet orderprocessing, the experiment's own, CPU profiles. */
export function appEnvironmentFor(settings: BenchOptions): Record<string, Record<string, string>> {
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

/** The settings a report keeps: how the run ran, not where it wrote. */
export function reportedSettings(settings: BenchOptions): BenchResult['settings'] {
  const { keepLogs: _k, cpuProfDir: _c, readme: _r, resultsDir: _d, ...rest } = settings;
  return rest;
}
