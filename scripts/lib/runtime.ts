// What the project runs on, and where each part lives. Versions follow ../shared/RUNTIME.md.
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { projectCacheDir } from './supportedNode.mjs';

export const versions = {
  /** daprd, placement, scheduler and sentry, built from the Go module github.com/dapr/dapr. */
  dapr: '1.18.1',
  /** The oldest runtime we accept when one is already installed (workflows need the scheduler). */
  minimumDapr: '1.15.0',
  /** The Dapr CLI, built from the Go module github.com/dapr/cli (the only version the proxy serves). */
  cli: '1.12.0',
  minimumCli: '1.12.0',
  zipkin: '3.5.1',
} as const;

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Dapr convention: `$DAPR_RUNTIME_PATH/.dapr` when set (the CLI honours it too), else `~/.dapr`. */
export const daprDir = join(process.env.DAPR_RUNTIME_PATH?.trim() || homedir(), '.dapr');
export const daprBinDir = join(daprDir, 'bin');
export const daprBin = (name: 'daprd' | 'placement' | 'scheduler' | 'sentry' | 'dapr') => join(daprBinDir, name);

/** Large downloads we own (the Zipkin jar, a supported Node when the machine's is older). */
export const cacheDir = projectCacheDir();
export const zipkinJar = join(cacheDir, `zipkin-server-${versions.zipkin}-exec.jar`);

/** Per-checkout runtime state of `npm start`: logs, Redis data, the scheduler's etcd, pids. */
export const runDir = join(repoRoot, '.run');

/**
 * The environment for the Go processes of the stack (daprd, placement, scheduler): one processor each
 * (GOMAXPROCS=1) unless GOMAXPROCS says otherwise. Seven Go processes share the machine with five apps;
 * each of them running Go code on every core makes them fight over the cores (idle threads spinning for
 * work, wake-ups, GC workers on every core). On 2 cores, one each took the benchmark from 38 to 51 orders/s
 * and from 46 to 35 ms of CPU per order (bench/results/experiments.md).
 */
export function goRuntimeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GOMAXPROCS: env.GOMAXPROCS?.trim() || '1' };
}

/**
 * Ports of the infrastructure `npm start` runs (the Dapr defaults; Redis and Zipkin may be reused). Sentry's
 * default, 50001, is orderprocessing's gRPC port in dapr.yaml: it takes 50009.
 */
export const infraPorts = { redis: 6379, zipkin: 9411, placement: 50005, scheduler: 50006, sentry: 50009 } as const;

/**
 * Compares versions ("1.18.1" vs "1.15.0"); a suffix such as "-rc.1" is ignored (coerced away), so that a
 * release candidate of the wanted version counts as it. What holds no version is never new enough.
 */
export function versionAtLeast(actual: string, wanted: string): boolean {
  const version = semver.coerce(actual);
  return version !== null && semver.gte(version, wanted);
}
