// Reads dapr.yaml, the single source of truth for app ids, ports and commands.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ms from 'ms';
import { parse, stringify } from 'yaml';
import { repoRoot, runDir } from './runtime.ts';

export interface DaprApp {
  appId: string;
  /** Absolute folder the app (and, under the CLI, its daprd) runs in. */
  dir: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  command: string[];
}

export interface DaprRunFile {
  apps: DaprApp[];
  resourcesPath: string;
  configFilePath: string;
  appHealthCheckPath: string;
}

interface RawApp {
  appID: string;
  appDirPath: string;
  appPort: number;
  daprHTTPPort: number;
  daprGRPCPort: number;
  command: string[];
}

export function readDaprRunFile(file = join(repoRoot, 'dapr.yaml')): DaprRunFile {
  const raw = parse(readFileSync(file, 'utf8')) as {
    common: { resourcesPath: string; configFilePath: string; appHealthCheckPath: string };
    apps: RawApp[];
  };
  const base = resolve(file, '..');
  return {
    resourcesPath: resolve(base, raw.common.resourcesPath),
    configFilePath: resolve(base, raw.common.configFilePath),
    appHealthCheckPath: raw.common.appHealthCheckPath,
    apps: raw.apps.map((app) => ({
      appId: app.appID,
      dir: resolve(base, app.appDirPath),
      appPort: app.appPort,
      daprHttpPort: app.daprHTTPPort,
      daprGrpcPort: app.daprGRPCPort,
      command: app.command,
    })),
  };
}

/**
 * The program to start for an app's command: `node` is the node running this script (the supported one
 * scripts/with-deps.mjs chose), whatever else is first on PATH.
 */
export function appExecutable(command: string | undefined): string {
  return command === undefined || command === 'node' ? process.execPath : command;
}

/** A duration as we write it ("7d", "2s") as Go writes it, for daprd's configuration ("168h0m0s" style). */
export function goDuration(text: string): string {
  const millis = ms(text as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) {
    throw new Error(`"${text}" is not a duration such as 2s, 10m or 7d`);
  }
  return millis % 1000 === 0 ? `${millis / 1000}s` : `${millis}ms`;
}

/**
 * dapr.yaml and its sidecar configuration again, under .run/, with the engine's retention of finished
 * workflows set to `retention` (ORDER_HISTORY_RETENTION): the Dapr CLI reads no variables in its files.
 * Returns the paths of both.
 */
export function writeRunFileWithRetention(retention: string): { runFile: string; configFile: string } {
  const base = join(repoRoot, 'dapr.yaml');
  const raw = parse(readFileSync(base, 'utf8'));
  const configFile = join(runDir, 'daprconfig.yaml');
  const config = parse(readFileSync(resolve(repoRoot, raw.common.configFilePath), 'utf8'));
  config.spec.workflow = { ...config.spec.workflow, stateRetentionPolicy: { anyTerminal: goDuration(retention) } };
  writeFileSync(configFile, stringify(config));
  raw.common.resourcesPath = resolve(repoRoot, raw.common.resourcesPath);
  raw.common.configFilePath = configFile;
  for (const app of raw.apps as RawApp[]) app.appDirPath = resolve(repoRoot, app.appDirPath);
  const runFile = join(runDir, 'dapr.yaml');
  writeFileSync(runFile, stringify(raw));
  return { runFile, configFile };
}
