// Reads dapr.yaml, the single source of truth for app ids, ports and commands.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './runtime.ts';

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
