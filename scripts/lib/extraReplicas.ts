// The replicas `npm start` runs beyond the first of each app (REPLICAS): the Dapr CLI starts the first
// from dapr.yaml on its documented ports; each further replica is its own app process and daprd under the
// same app id, on free ports, with the same components, configuration, placement and scheduler.
import { join } from 'node:path';
import { appExecutable, type DaprRunFile } from './daprfile.ts';
import { freePort, httpOk, Service, waitFor } from './proc.ts';
import { replicaName } from './replicas.ts';
import { infraPorts, runDir } from './runtime.ts';
import { startDaprd } from './sidecar.ts';

export interface ExtraReplica {
  name: string;
  appPort: number;
  services: Service[];
}

export async function startExtraReplicas(
  runFile: DaprRunFile,
  counts: Record<string, number>,
  env: Record<string, string>,
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
      const settings = {
        resourcesPath: runFile.resourcesPath,
        configFile: runFile.configFilePath,
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
