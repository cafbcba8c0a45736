// The replicas `npm start` runs beyond the first of each app (REPLICAS): the Dapr CLI starts the first
// from dapr.yaml on its documented ports; each further replica is its own app process and daprd under the
// same app id, on free ports, with the same components, configuration, placement and scheduler.
import { join } from 'node:path';
import { appExecutable, type DaprRunFile } from './daprfile.ts';
import { freePort, httpOk, Service, waitFor } from './proc.ts';
import { replicaName } from './replicas.ts';
import { infraPorts, runDir } from './runtime.ts';
import type { Mtls } from './sentry.ts';
import { startDaprd } from './sidecar.ts';
import { appTokenEnv, type Credentials } from './tokens.ts';

export interface ExtraReplica {
  name: string;
  appPort: number;
  services: Service[];
}

export interface ReplicaSettings {
  /** Each app's sidecar configuration, by app id (its first replica's). */
  configFiles: Record<string, string>;
  credentials: Credentials;
  mtls: Mtls;
  /** Added to every app's environment (the scheduler's address). */
  env: Record<string, string>;
}

export async function startExtraReplicas(
  runFile: DaprRunFile,
  counts: Record<string, number>,
  { configFiles, credentials, mtls, env: common }: ReplicaSettings,
): Promise<ExtraReplica[]> {
  const wanted = runFile.apps.flatMap((app) =>
    Array.from({ length: (counts[app.appId] ?? 1) - 1 }, (_, n) => ({ app, index: n + 1 })),
  );
  const logDir = join(runDir, 'logs');
  return Promise.all(
    wanted.map(async ({ app, index }) => {
      const name = replicaName(app.appId, index);
      const ports = {
        appPort: await freePort(),
        daprHttpPort: await freePort(),
        daprGrpcPort: await freePort(),
        internalGrpc: await freePort(),
        metrics: await freePort(),
      };
      // The same app id, so the same tokens as its first replica: a replica is the app again.
      const env = { ...common, ...credentials.env, ...appTokenEnv(credentials, app.appId) };
      const settings = {
        resourcesPath: runFile.resourcesPath,
        configFile: configFiles[app.appId] ?? app.configFile,
        mtls,
        placement: `localhost:${infraPorts.placement}`,
        scheduler: `localhost:${infraPorts.scheduler}`,
        logLevel: 'info',
        env,
      };
      const daprd = await startDaprd(`${name}-daprd`, app.appId, ports, settings, { cwd: app.dir, logDir });
      const [command, ...args] = app.command;
      const process_ = new Service(name, appExecutable(command), args, join(logDir, `${name}.log`), {
        cwd: app.dir,
        env: {
          ...process.env,
          ...env,
          APP_ID: app.appId,
          APP_PORT: String(ports.appPort),
          DAPR_HTTP_PORT: String(ports.daprHttpPort),
          DAPR_GRPC_PORT: String(ports.daprGrpcPort),
        },
      });
      await waitFor(name, () => httpOk(`http://127.0.0.1:${ports.daprHttpPort}/v1.0/healthz`), {
        timeoutMs: 90_000,
        alive: process_.exitReason,
      });
      return { name, appPort: ports.appPort, services: [process_, daprd] };
    }),
  );
}
