// Reads dapr.yaml, the single source of truth for app ids, ports and commands.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ms from 'ms';
import { parse, stringify } from 'yaml';
import { repoRoot } from './runtime.ts';

export interface DaprApp {
  appId: string;
  /** Absolute folder the app (and, under the CLI, its daprd) runs in. */
  dir: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  command: string[];
  /** Its sidecar's configuration (components/config.<app id>.yaml): each app has its own access control. */
  configFile: string;
}

export interface DaprRunFile {
  apps: DaprApp[];
  resourcesPath: string;
  appHealthCheckPath: string;
}

interface RawApp {
  appID: string;
  appDirPath: string;
  appPort: number;
  daprHTTPPort: number;
  daprGRPCPort: number;
  configFilePath: string;
  command: string[];
}

export function readDaprRunFile(file = join(repoRoot, 'dapr.yaml')): DaprRunFile {
  const raw = parse(readFileSync(file, 'utf8')) as {
    common: { resourcesPath: string; appHealthCheckPath: string };
    apps: RawApp[];
  };
  const base = resolve(file, '..');
  return {
    resourcesPath: resolve(base, raw.common.resourcesPath),
    appHealthCheckPath: raw.common.appHealthCheckPath,
    apps: raw.apps.map((app) => ({
      appId: app.appID,
      dir: resolve(base, app.appDirPath),
      appPort: app.appPort,
      daprHttpPort: app.daprHTTPPort,
      daprGrpcPort: app.daprGRPCPort,
      command: app.command,
      configFile: resolve(base, app.configFilePath),
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

// biome-ignore lint/suspicious/noExplicitAny: a Dapr Configuration as YAML gives it, edited field by field
export type SidecarConfiguration = Record<string, any>;

/**
 * Every app's sidecar configuration written again into `dir` (as config.<app id>.yaml), changed by `edit`:
 * the Dapr CLI reads no variables in its files. Returns each app's new file by app id.
 */
export function writeConfigurations(
  apps: DaprApp[],
  dir: string,
  edit: (config: SidecarConfiguration, appId: string) => void,
): Record<string, string> {
  return Object.fromEntries(
    apps.map((app) => {
      const config = parse(readFileSync(app.configFile, 'utf8')) as SidecarConfiguration;
      edit(config, app.appId);
      const file = join(dir, `config.${app.appId}.yaml`);
      writeFileSync(file, stringify(config));
      return [app.appId, file];
    }),
  );
}
