// The Dapr CLI's path (`npm start`, and a test stack `viaCli`): dapr.yaml written again with the run's
// ports, resources, each app's configuration and environment, then run by the real `dapr run -f`.
//
// CLI 1.12 cannot give each sidecar what it now needs: daprd inherits the CLI's own environment (so one
// DAPR_API_TOKEN for all), and with mTLS on it always points daprd at Sentry on localhost:50001. So each
// app's `runtimePath` holds a daprd of its own: a small script that sets that app's tokens and the run's
// trust anchors, and runs the real daprd with the CLI's arguments plus the run's Sentry address (the last
// --sentry-address wins). Scripts and run file hold tokens: they are written for the owner only.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { Service } from './proc.ts';
import { daprBin, goRuntimeEnv, repoRoot } from './runtime.ts';

export interface CliApp {
  appId: string;
  /** Ports to use instead of dapr.yaml's (a test stack's); absent: dapr.yaml's (npm start). */
  ports?: { appPort: number; daprHttpPort: number; daprGrpcPort: number; internalGrpc: number; metrics: number };
  /** Added to what the CLI gives the app (its id and ports): its tokens, and the run's settings. */
  env: Record<string, string>;
  /** Its sidecar's configuration file. */
  configFile: string;
  /** Its sidecar's own environment (its tokens, the trust anchors) and extra arguments (Sentry's address). */
  sidecar: { env: Record<string, string>; args: string[] };
}

export interface CliRun {
  /** Where to write the run file. */
  file: string;
  /** Where each app's daprd script goes (<dir>/<app id>/.dapr/bin/daprd). */
  runtimeDir: string;
  apps: CliApp[];
  resourcesDir: string;
  placement?: string;
  /** A test stack's: quieter sidecars, everything on the CLI's console (its log file). */
  quiet?: boolean;
}

interface RawApp {
  appID: string;
  appDirPath: string;
  [field: string]: unknown;
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** The app's daprd script; returns the runtimePath that makes the CLI run it. */
function writeSidecarScript(runtimeDir: string, app: CliApp): string {
  const runtimePath = join(runtimeDir, app.appId);
  const binDir = join(runtimePath, '.dapr', 'bin');
  mkdirSync(binDir, { recursive: true, mode: 0o700 });
  const script = join(binDir, 'daprd');
  const exports = Object.entries(app.sidecar.env).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  const text = [
    '#!/bin/sh',
    `# ${app.appId}'s daprd for the Dapr CLI (scripts/lib/cliRun.ts): its own tokens, the run's Sentry.`,
    ...exports,
    // The CLI's arguments first would let its fixed --sentry-address win: ours go after them.
    `exec ${shellQuote(daprBin('daprd'))} "$@" ${app.sidecar.args.map(shellQuote).join(' ')}`,
  ].join('\n');
  writeFileSync(script, `${text}\n`, { mode: 0o700 });
  chmodSync(script, 0o700);
  return runtimePath;
}

export function writeCliRunFile({ file, runtimeDir, apps, resourcesDir, placement, quiet }: CliRun): void {
  const raw = parse(readFileSync(join(repoRoot, 'dapr.yaml'), 'utf8')) as {
    common: Record<string, unknown>;
    apps: RawApp[];
  };
  const { resourcesPath: _single, ...common } = raw.common;
  raw.common = {
    ...common,
    resourcesPaths: [resourcesDir],
    ...(placement ? { placementHostAddress: placement } : {}),
    ...(quiet
      ? {
          apiListenAddresses: '127.0.0.1',
          logLevel: 'warn',
          daprdLogDestination: 'console',
          appLogDestination: 'console',
        }
      : {}),
  };
  raw.apps = raw.apps.map((app) => {
    const run = apps.find((each) => each.appId === app.appID);
    if (!run) throw new Error(`no settings for ${app.appID}`);
    const { ports } = run;
    return {
      ...app,
      appDirPath: resolve(repoRoot, app.appDirPath),
      configFilePath: run.configFile,
      runtimePath: writeSidecarScript(runtimeDir, run),
      ...(ports
        ? {
            appPort: ports.appPort,
            daprHTTPPort: ports.daprHttpPort,
            daprGRPCPort: ports.daprGrpcPort,
            daprInternalGRPCPort: ports.internalGrpc,
            metricsPort: ports.metrics,
          }
        : {}),
      env: run.env,
    };
  });
  writeFileSync(file, stringify(raw), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * `dapr run -f <file>`; `env` reaches every app and daprd through the CLI (the scheduler's address). No
 * token goes through it: each app's come from its own entry of the run file, each daprd's from its script.
 */
export function startCli(file: string, logFile: string, cwd: string, env: Record<string, string>): Service {
  return new Service('dapr-run', daprBin('dapr'), ['run', '-f', file], logFile, {
    cwd,
    env: { ...withoutTokens(goRuntimeEnv()), ...env },
  });
}

/** The environment less any token the user set for the run: the CLI would hand each of them to every app. */
export function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const isToken = (name: string) => /^(DAPR_API_TOKEN|APP_API_TOKEN|APPROVER_TOKENS$|ADMIN_TOKEN$)/.test(name);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isToken(name)));
}
