// How our scripts start a daprd beside an app, the same way for the test stacks and for the replicas
// `npm start` adds beyond the first (which the Dapr CLI starts from dapr.yaml).
import { join } from 'node:path';
import { httpOk, Service, waitFor } from './proc.ts';
import { daprBin, goRuntimeEnv } from './runtime.ts';
import { type Mtls, sidecarMtls } from './sentry.ts';

export interface SidecarPorts {
  /** 0: a sidecar without an app port (its app talks to it over gRPC only). */
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
  internalGrpc: number;
  metrics: number;
}

export interface SidecarSettings {
  resourcesPath: string;
  configFile: string;
  placement: string;
  scheduler: string;
  logLevel: string;
  /** Added to the environment (the app's own tokens). */
  env: Record<string, string>;
  /** The run's Sentry: every sidecar takes part in mTLS, which access control needs. */
  mtls: Mtls;
}

/** Starts daprd for `appId` in `cwd` (relative paths in the configuration are from there) and waits for its API. */
export async function startDaprd(
  name: string,
  appId: string,
  ports: SidecarPorts,
  settings: SidecarSettings,
  options: { cwd: string; logDir: string },
): Promise<Service> {
  const flags: Record<string, string> = {
    '--app-id': appId,
    ...(ports.appPort ? { '--app-port': String(ports.appPort), '--app-protocol': 'http' } : {}),
    '--dapr-http-port': String(ports.daprHttpPort),
    '--dapr-grpc-port': String(ports.daprGrpcPort),
    '--dapr-internal-grpc-port': String(ports.internalGrpc),
    '--dapr-listen-addresses': '127.0.0.1',
    '--metrics-port': String(ports.metrics),
    '--resources-path': settings.resourcesPath,
    '--config': settings.configFile,
    '--placement-host-address': settings.placement,
    '--scheduler-host-address': settings.scheduler,
    '--log-level': settings.logLevel,
  };
  const mtls = sidecarMtls(settings.mtls);
  const args = [...Object.entries(flags).flat(), ...mtls.args];
  const daprd = new Service(name, daprBin('daprd'), args, join(options.logDir, `${name}.log`), {
    cwd: options.cwd,
    env: { ...goRuntimeEnv(), ...settings.env, ...mtls.env },
  });
  await waitFor(name, () => httpOk(`http://127.0.0.1:${ports.daprHttpPort}/v1.0/healthz/outbound`), {
    timeoutMs: 60_000,
    alive: daprd.exitReason,
  });
  return daprd;
}
