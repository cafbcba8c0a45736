// The Dapr CLI's path, as `npm start` takes it, for a stack of its own: dapr.yaml written again with the
// stack's ports, resources, configuration and placement and every app's environment, then run by the
// real `dapr run -f`. The apps' and sidecars' output goes to the CLI's own log, not to the repo's folders.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { Service } from './proc.ts';
import { daprBin, goRuntimeEnv, repoRoot } from './runtime.ts';

export interface CliApp {
  appId: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  internalGrpc: number;
  metrics: number;
  /** Added to what the CLI gives the app (its id and ports). */
  env: Record<string, string>;
}

export interface CliRun {
  /** Where to write the run file. */
  file: string;
  apps: CliApp[];
  resourcesDir: string;
  configFile: string;
  placement: string;
}

interface RawApp {
  appID: string;
  appDirPath: string;
  [field: string]: unknown;
}

export function writeCliRunFile({ file, apps, resourcesDir, configFile, placement }: CliRun): void {
  const raw = parse(readFileSync(join(repoRoot, 'dapr.yaml'), 'utf8')) as {
    common: Record<string, unknown>;
    apps: RawApp[];
  };
  const { resourcesPath: _single, ...common } = raw.common;
  raw.common = {
    ...common,
    resourcesPaths: [resourcesDir],
    configFilePath: configFile,
    placementHostAddress: placement,
    apiListenAddresses: '127.0.0.1',
    logLevel: 'warn',
    daprdLogDestination: 'console',
    appLogDestination: 'console',
  };
  raw.apps = raw.apps.map((app) => {
    const ports = apps.find((each) => each.appId === app.appID);
    if (!ports) throw new Error(`no ports for ${app.appID}`);
    return {
      ...app,
      appDirPath: resolve(repoRoot, app.appDirPath),
      appPort: ports.appPort,
      daprHTTPPort: ports.daprHttpPort,
      daprGRPCPort: ports.daprGrpcPort,
      daprInternalGRPCPort: ports.internalGrpc,
      metricsPort: ports.metrics,
      env: ports.env,
    };
  });
  writeFileSync(file, stringify(raw));
}

/** `dapr run -f <file>`; `env` reaches every app and daprd through the CLI, as with npm start (tokens). */
export function startCli(file: string, logFile: string, cwd: string, env: Record<string, string>): Service {
  return new Service('dapr-run', daprBin('dapr'), ['run', '-f', file], logFile, {
    cwd,
    env: { ...goRuntimeEnv(), ...env },
  });
}
