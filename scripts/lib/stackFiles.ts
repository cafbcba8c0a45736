// The files a test stack's sidecars read: the repo's components pointed at the stack's own Redis (or
// PostgreSQL), and each app's sidecar configuration pointed at the stack's name resolution, retention and
// Zipkin, its access control kept.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { STATE_STORE } from '../../services/shared/src/dapr.ts';
import { type DaprApp, goDuration, type SidecarConfiguration, writeConfigurations } from './daprfile.ts';
import { repoRoot } from './runtime.ts';

const POSTGRES_STATE_STORE = join(repoRoot, 'deploy/kubernetes/production-examples/statestore-postgresql.yaml');

/**
 * The repo's state store component as deploy/kubernetes/production-examples has it on PostgreSQL v2 (same
 * metadata), keeping its name and scopes, with the connection string inline instead of a Kubernetes Secret.
 */
function onPostgres(component: Record<string, unknown>, connectionString: string) {
  const example = parseAllDocuments(readFileSync(POSTGRES_STATE_STORE, 'utf8'))[0]?.toJS();
  const metadata = (example.spec.metadata as { name: string }[]).map((entry) =>
    entry.name === 'connectionString' ? { name: entry.name, value: connectionString } : entry,
  );
  return { ...component, spec: { ...example.spec, metadata } };
}

function setMetadata(spec: { metadata?: { name: string; value: unknown }[] }, name: string, value: string) {
  const entry = spec.metadata?.find((item) => item.name === name);
  if (entry) entry.value = value;
}

export interface StackResources {
  redisPort: number;
  /** A PostgreSQL connection string: the state store goes there instead of Redis. */
  postgres: string | undefined;
  /** The pub/sub stream's cap, instead of the component's. */
  streamMaxLen: number | undefined;
  /** Apps beyond dapr.yaml's (a benchmark's own worker): in the shared components' scopes. */
  extraApps: string[];
}

/** The repo's components (`resourcesPath`) into `targetDir`, pointed at this stack's stores. */
export function writeStackResources(resourcesPath: string, targetDir: string, stack: StackResources): void {
  mkdirSync(targetDir, { recursive: true });
  for (const file of readdirSync(resourcesPath).filter((name) => /\.ya?ml$/.test(name))) {
    const source = join(resourcesPath, file);
    if (parseAllDocuments(readFileSync(source, 'utf8')).some((doc) => doc.toJS()?.kind === 'Configuration')) continue;
    const docs = parseAllDocuments(readFileSync(source, 'utf8')).map((doc) => {
      const component = doc.toJS();
      const swap = stack.postgres !== undefined && component?.metadata?.name === STATE_STORE;
      return swap ? onPostgres(component, stack.postgres as string) : component;
    });
    for (const doc of docs) {
      if (doc?.kind === 'Component') setMetadata(doc.spec, 'redisHost', `127.0.0.1:${stack.redisPort}`);
      if (doc?.kind === 'Component' && stack.streamMaxLen !== undefined) {
        setMetadata(doc.spec, 'maxLenApprox', String(stack.streamMaxLen));
      }
      const shared = /^(state|pubsub|secretstores)\./.test(String(doc?.spec?.type));
      if (doc?.kind === 'Component' && shared && Array.isArray(doc.scopes)) doc.scopes.push(...stack.extraApps);
    }
    writeFileSync(join(targetDir, file), docs.map((doc) => JSON.stringify(doc)).join('\n---\n'));
  }
}

/** How an extra app of a test stack is known to the others' access control (this machine's identities). */
const EXTRA_APP_POLICY = { defaultAction: 'deny', trustDomain: 'public', namespace: 'default' };

export interface StackConfigurations {
  /** The engine's retention of finished workflows, instead of the configuration's. */
  orderHistoryRetention: string | undefined;
  /** The stack's Zipkin; tracing is off without one. */
  zipkinUrl: string | undefined;
  extraApps: string[];
}

/**
 * Each app's sidecar configuration, written into `dir`: its file by app id. Extra apps (a benchmark's own
 * worker) get orderprocessing's settings, are called by nobody, and may call GET /healthz on every app:
 * what the benchmark's calls workload does.
 */
export function writeStackConfigurations(
  apps: DaprApp[],
  dir: string,
  stack: StackConfigurations,
): Record<string, string> {
  const edit = (config: SidecarConfiguration) => {
    config.spec.nameResolution.configuration.connectionString = join(dir, 'nameresolution.db');
    if (stack.orderHistoryRetention) {
      config.spec.workflow.stateRetentionPolicy.anyTerminal = goDuration(stack.orderHistoryRetention);
    }
    config.spec.tracing = stack.zipkinUrl
      ? { samplingRate: '1', zipkin: { endpointAddress: `${stack.zipkinUrl}/api/v2/spans` } }
      : { samplingRate: '0' };
    const healthz = { name: '/healthz', httpVerb: ['GET'], action: 'allow' };
    const policy = (appId: string) => ({ ...EXTRA_APP_POLICY, appId, operations: [healthz] });
    config.spec.accessControl.policies = [
      ...(config.spec.accessControl.policies ?? []),
      ...stack.extraApps.map(policy),
    ];
  };
  const files = writeConfigurations(apps, dir, edit);
  const base = apps.find((app) => app.appId === 'orderprocessing');
  if (base && stack.extraApps.length > 0) {
    const [file] = Object.values(
      writeConfigurations([{ ...base, appId: 'extra-apps' }], dir, (config) => {
        edit(config);
        config.spec.accessControl = { defaultAction: 'deny', trustDomain: 'public' };
      }),
    );
    for (const appId of stack.extraApps) files[appId] = file ?? '';
  }
  return files;
}
