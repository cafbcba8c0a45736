// A private copy of the whole system on the real Dapr runtime, for the tests and the benchmark: its own
// Redis, placement and scheduler on free ports, the apps from dapr.yaml (each replica with its own daprd),
// and components rewritten to point at all of that. Nothing of a running `npm start` is touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, writeCliRunFile } from './cliRun.ts';
import { appExecutable, type DaprApp, readDaprRunFile } from './daprfile.ts';
import { Infra } from './infra.ts';
import { freePort, httpOk, Service, signalGroup, waitFor } from './proc.ts';
import { replicaName } from './replicas.ts';
import { type Mtls, sidecarMtls } from './sentry.ts';
import { type SidecarPorts, startDaprd } from './sidecar.ts';
import { writeStackConfigurations, writeStackResources } from './stackFiles.ts';
import { appTokenEnv, type Credentials, sessionCredentials } from './tokens.ts';

export interface AppEndpoints {
  appId: string;
  appPort: number;
  daprHttpPort: number;
  daprGrpcPort: number;
}

export interface StackOptions {
  /** Extra environment per app id, e.g. a short APPROVAL_TIMEOUT for orderprocessing. */
  env?: Record<string, Record<string, string>>;
  /** Keep the temporary folder (logs) after stop, for a failing run. */
  keepLogs?: boolean;
  /**
   * App ids outside dapr.yaml whose sidecars the caller starts with `startSidecar` (e.g. a benchmark's own
   * workflow worker). They are added to the scopes of the state store, the pub/sub and the secret store
   * they read their password from, so they share the state store and the pub/sub with the others.
   */
  extraApps?: string[];
  /**
   * A PostgreSQL connection string: the `statestore` component becomes the production example's
   * PostgreSQL v2 store (actor state too) on that server. Pub/sub stays on Redis.
   */
  postgresStateStore?: string;
  /** How long the engine keeps a finished workflow's history (`2s`, `7d`): ORDER_HISTORY_RETENTION. */
  orderHistoryRetention?: string;
  /** The notifications stream's cap (the pub/sub's maxLenApprox), instead of the component's. */
  streamMaxLen?: number;
  /** Replicas per app id (1 when not named): each its own app process and daprd under the same app id. */
  replicas?: Record<string, number>;
  /**
   * Trace everything into a private Zipkin (on a free port, started beside the rest): the sidecars sample
   * every span and the apps export theirs. Without it nothing is sampled and the apps' OpenTelemetry is off.
   */
  tracing?: boolean;
  /**
   * With `tracing`: whether the apps and sidecars send their spans every 200 ms, for tests that wait for
   * whole traces (the default), or every 5 s as they do by default, for a benchmark.
   */
  spansSoon?: boolean;
  /** With `tracing`: the private Zipkin's heap (MB); a benchmark's thousands of traced orders need more. */
  zipkinHeapMb?: number;
  /**
   * Start the apps and their sidecars as `npm start` does, with the real Dapr CLI (`dapr run -f` on
   * dapr.yaml written again for this stack, cliRun.ts): one replica each, none killed or restarted alone.
   */
  viaCli?: boolean;
}

/** One replica of an app: its process and its daprd. */
interface Replica {
  app: DaprApp;
  name: string;
  ports: AppEndpoints & Omit<SidecarPorts, 'appPort' | 'daprHttpPort' | 'daprGrpcPort'>;
  daprd?: Service;
  process?: Service;
  /** An extra app: a sidecar without an app port, its app is the caller's business. */
  sidecarOnly?: boolean;
  /** An extra app's sidecar that has an app port all the same (`startSidecar`'s `withAppPort`). */
  appPortKept?: boolean;
}

/**
 * Spans leave each app and sidecar in batches, every 5 s by default (OpenTelemetry's batch processor, in
 * Node and in Go alike): every 200 ms on a test stack, whose tests wait for whole traces.
 */
const SPANS_SOON = { OTEL_BSP_SCHEDULE_DELAY: '200' };

export class TestStack {
  readonly dir = mkdtempSync(join(tmpdir(), 'dapr-orders-test-'));
  /** Fresh tokens for this stack: approvers, admin, and each app's own pair (extra apps' too). */
  readonly credentials: Credentials;
  private infra: Infra | undefined;
  /** Each app's replicas, the first one first. */
  private readonly apps = new Map<string, Replica[]>();
  private resourcesDir = join(this.dir, 'components');
  /** Each app's sidecar configuration, by app id (extra apps share one). */
  private configFiles: Record<string, string> = {};
  private placementPort = 0;
  private schedulerPort = 0;
  private zipkinPort: number | undefined;
  /** The Dapr CLI that runs the apps and their sidecars (`viaCli`). */
  private cli: Service | undefined;

  constructor(private readonly options: StackOptions = {}) {
    const appIds = [...readDaprRunFile().apps.map((app) => app.appId), ...(options.extraApps ?? [])];
    this.credentials = sessionCredentials(appIds, {});
  }

  private replica(appId: string, index = 0): Replica {
    const running = this.apps.get(appId)?.[index];
    if (!running) throw new Error(`no replica ${index + 1} of app ${appId}`);
    return running;
  }

  /** The endpoints of one replica of an app (the first by default). */
  endpoints(appId: string, replica = 0): AppEndpoints {
    return this.replica(appId, replica).ports;
  }

  /** The first replica of every app. */
  allEndpoints(): Record<string, AppEndpoints> {
    return Object.fromEntries([...this.apps.keys()].map((appId) => [appId, this.endpoints(appId)]));
  }

  /** A replica's daprd metrics (Prometheus text). */
  metricsUrl(appId: string, replica = 0): string {
    return `http://127.0.0.1:${this.replica(appId, replica).ports.metrics}/metrics`;
  }

  replicasOf(appId: string): number {
    return this.apps.get(appId)?.length ?? 0;
  }

  url(appId: string, replica = 0): string {
    return `http://127.0.0.1:${this.endpoints(appId, replica).appPort}`;
  }

  /** The stack's own Redis (pub/sub, and the state store unless it is on PostgreSQL). */
  get redisPort(): number {
    return this.infra?.options.ports.redis ?? 0;
  }

  get logDir(): string {
    return join(this.dir, 'logs');
  }

  /** The private Zipkin's base URL (its UI and API), when the stack traces. */
  get zipkinUrl(): string | undefined {
    return this.zipkinPort === undefined ? undefined : `http://127.0.0.1:${this.zipkinPort}`;
  }

  /** Kills every process group of the stack at once: the last resort when the test process goes away. */
  private readonly killAll = () => {
    for (const pid of this.pids()) signalGroup(pid, 'SIGKILL');
  };
  private readonly killAndExit = (signal: NodeJS.Signals) => {
    this.killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  async start(): Promise<void> {
    // Our processes live in process groups of their own (so that chaos can kill them one by one): they
    // would outlive a test run that is killed, unless we take them along.
    process.once('exit', this.killAll);
    process.once('SIGINT', this.killAndExit);
    process.once('SIGTERM', this.killAndExit);
    const ports = {
      redis: await freePort(),
      placement: await freePort(),
      scheduler: await freePort(),
      sentry: await freePort(),
    };
    this.placementPort = ports.placement;
    this.schedulerPort = ports.scheduler;
    this.infra = new Infra({ dir: this.dir, ports, reuse: false });
    // Zipkin (a JVM, the slowest to start) comes up while the rest starts; spans sent before it answers
    // are lost, which costs only the start-up's own.
    if (this.options.tracing) this.zipkinPort = await freePort();
    const zipkin =
      this.zipkinPort === undefined
        ? undefined
        : this.infra.startZipkin(this.zipkinPort, this.options.zipkinHeapMb ?? 256);
    zipkin?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    await this.infra.start();

    const runFile = readDaprRunFile();
    writeStackResources(runFile.resourcesPath, this.resourcesDir, {
      redisPort: ports.redis,
      postgres: this.options.postgresStateStore,
      streamMaxLen: this.options.streamMaxLen,
      extraApps: this.options.extraApps ?? [],
    });
    this.configFiles = writeStackConfigurations(runFile.apps, this.dir, {
      orderHistoryRetention: this.options.orderHistoryRetention,
      zipkinUrl: this.zipkinUrl,
      extraApps: this.options.extraApps ?? [],
    });
    for (const app of runFile.apps) {
      const count = this.options.replicas?.[app.appId] ?? 1;
      const replicas: Replica[] = [];
      for (let index = 0; index < count; index++) {
        replicas.push({ app, name: replicaName(app.appId, index), ports: await this.freshPorts(app.appId) });
      }
      this.apps.set(app.appId, replicas);
    }
    const all = [...this.apps.entries()].flatMap(([appId, replicas]) => replicas.map((_, index) => ({ appId, index })));
    if (this.options.viaCli) await this.startViaCli();
    else await Promise.all(all.map(({ appId, index }) => this.startFirstTime(appId, index)));
    await zipkin;
  }

  /** Every app and its sidecar through the Dapr CLI, ready once each sidecar and app answer its health check. */
  private async startViaCli(): Promise<void> {
    const replicas = [...this.apps.values()].map((each) => each[0] as Replica);
    const file = join(this.dir, 'dapr.yaml');
    writeCliRunFile({
      file,
      runtimeDir: join(this.dir, 'sidecars'),
      apps: replicas.map(({ ports }) => ({
        appId: ports.appId,
        ports,
        env: this.appEnv(ports.appId),
        configFile: this.configFileOf(ports.appId),
        sidecar: this.cliSidecar(ports.appId),
      })),
      resourcesDir: this.resourcesDir,
      placement: `127.0.0.1:${this.placementPort}`,
      quiet: true,
    });
    this.cli = startCli(file, join(this.logDir, 'dapr-run.log'), this.dir, {
      // CLI 1.12 knows nothing of the scheduler; daprd 1.18 still reads its address from this variable.
      DAPR_SCHEDULER_HOST_ADDRESS_DNS_A: `127.0.0.1:${this.schedulerPort}`,
    });
    const cli = this.cli;
    await Promise.all(
      replicas.map(({ ports }) =>
        waitFor(
          `${ports.appId} through the Dapr CLI`,
          async () =>
            (await httpOk(`http://127.0.0.1:${ports.daprHttpPort}/v1.0/healthz`)) &&
            (await httpOk(`http://127.0.0.1:${ports.appPort}/healthz`)),
          { timeoutMs: 90_000, alive: cli.exitReason },
        ),
      ),
    );
  }

  private spansSoon(): Record<string, string> {
    return this.zipkinUrl && this.options.spansSoon !== false ? SPANS_SOON : {};
  }

  /** What the apps need to know of tracing: where to send their spans, or that there is nowhere. */
  private tracingEnv(appId: string): Record<string, string> {
    const zipkin = this.zipkinUrl;
    if (!zipkin) return { OTEL_SDK_DISABLED: 'true' };
    return {
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkin}/api/v2/spans`,
      ...this.spansSoon(),
      ...(appId === 'orderprocessing' ? { ZIPKIN_URL: zipkin } : {}),
    };
  }

  /** Not the ports in dapr.yaml: those belong to `npm start`. */
  private async freshPorts(appId: string): Promise<Replica['ports']> {
    return {
      appId,
      appPort: await freePort(),
      daprHttpPort: await freePort(),
      daprGrpcPort: await freePort(),
      internalGrpc: await freePort(),
      metrics: await freePort(),
    };
  }

  /**
   * A free port can be taken by another process between our look and daprd's bind (other stacks start
   * on this machine too): on a failed first start, stop that replica and try again on new ports.
   */
  private async startFirstTime(appId: string, index: number): Promise<void> {
    const running = this.replica(appId, index);
    for (let attempt = 1; ; attempt++) {
      try {
        return await (running.sidecarOnly ? this.startDaprd(appId, index) : this.startApp(appId, index));
      } catch (error) {
        if (attempt >= 3) throw error;
        await Promise.all([running.process?.stop(2_000), running.daprd?.stop(2_000)]);
        const noAppPort = running.sidecarOnly && !running.appPortKept;
        running.ports = { ...(await this.freshPorts(appId)), ...(noAppPort ? { appPort: 0 } : {}) };
      }
    }
  }

  private configFileOf(appId: string): string {
    const file = this.configFiles[appId];
    if (!file) throw new Error(`no sidecar configuration for ${appId}`);
    return file;
  }

  /** A sidecar's own environment: its app's tokens, and on a test stack spans sent soon. */
  private sidecarEnv(appId: string): Record<string, string> {
    return { ...appTokenEnv(this.credentials, appId), ...this.spansSoon() };
  }

  /** The same for the Dapr CLI's sidecar scripts, which also take the run's mTLS settings. */
  private cliSidecar(appId: string): { env: Record<string, string>; args: string[] } {
    const mtls = sidecarMtls(this.mtls);
    return { env: { ...this.sidecarEnv(appId), ...mtls.env }, args: mtls.args };
  }

  private get mtls(): Mtls {
    if (!this.infra) throw new Error('the stack has not started');
    return this.infra.mtls;
  }

  /** Starts (or restarts) a replica's daprd and its app. */
  async startApp(appId: string, replica = 0): Promise<void> {
    await Promise.all([this.startDaprd(appId, replica), this.startProcess(appId, replica)]);
    // Ready for traffic only once the sidecar has found its app (full health, not just its own APIs).
    const running = this.replica(appId, replica);
    await waitFor(
      `${running.name}'s daprd and app together`,
      () => httpOk(`http://127.0.0.1:${running.ports.daprHttpPort}/v1.0/healthz`),
      { timeoutMs: 30_000, alive: running.daprd?.exitReason },
    );
  }

  async startDaprd(appId: string, replica = 0): Promise<void> {
    const running = this.replica(appId, replica);
    const { ports, app } = running;
    running.daprd = await startDaprd(
      `${running.name}-daprd`,
      appId,
      { ...ports, appPort: running.sidecarOnly && !running.appPortKept ? 0 : ports.appPort },
      {
        resourcesPath: this.resourcesDir,
        configFile: this.configFileOf(appId),
        placement: `127.0.0.1:${this.placementPort}`,
        scheduler: `127.0.0.1:${this.schedulerPort}`,
        logLevel: 'warn',
        env: this.sidecarEnv(appId),
        mtls: this.mtls,
      },
      { cwd: app.dir, logDir: this.logDir },
    );
  }

  /** An app's environment beyond its id and ports: its own tokens, tracing, and what the options add. */
  private appEnv(appId: string): Record<string, string> {
    return {
      ...this.credentials.env,
      ...appTokenEnv(this.credentials, appId),
      RATE_LIMIT_ORDERS_PER_MINUTE: '100000',
      RATE_LIMIT_DECISIONS_PER_MINUTE: '100000',
      RATE_LIMIT_READS_PER_MINUTE: '100000',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '100000',
      ...this.tracingEnv(appId),
      ...this.options.env?.[appId],
    };
  }

  /** Starts (or restarts) a replica's app; `env` adds to (or overrides) its environment from now on. */
  async startProcess(appId: string, replica = 0, env: Record<string, string> = {}): Promise<void> {
    const running = this.replica(appId, replica);
    const { ports, app } = running;
    const [command, ...args] = app.command;
    running.process = new Service(
      running.name,
      appExecutable(command),
      args,
      join(this.logDir, `${running.name}.log`),
      {
        cwd: app.dir,
        env: {
          ...process.env,
          APP_ID: appId,
          APP_PORT: String(ports.appPort),
          DAPR_HTTP_PORT: String(ports.daprHttpPort),
          DAPR_GRPC_PORT: String(ports.daprGrpcPort),
          ...this.appEnv(appId),
          ...env,
        },
      },
    );
    await waitFor(running.name, () => httpOk(`http://127.0.0.1:${ports.appPort}/healthz`), {
      timeoutMs: 60_000,
      alive: running.process.exitReason,
    });
  }

  /**
   * Starts the sidecar of one of `extraApps`, with the same flags as the others (placement, scheduler,
   * components, configuration) but no app port: its app talks to it over gRPC only, e.g. a workflow
   * worker. With `withAppPort` it also gets a free app port (in the endpoints) and the apps' app protocol,
   * as theirs do, for an app the caller starts listening there. It is stopped with the stack.
   */
  async startSidecar(appId: string, withAppPort = false): Promise<AppEndpoints> {
    if (!this.options.extraApps?.includes(appId)) throw new Error(`${appId} is not one of the stack's extraApps`);
    const configFile = this.configFileOf(appId);
    const app: DaprApp = {
      appId,
      dir: this.dir,
      appPort: 0,
      daprHttpPort: 0,
      daprGrpcPort: 0,
      command: [],
      configFile,
    };
    const fresh = await this.freshPorts(appId);
    const ports = withAppPort ? fresh : { ...fresh, appPort: 0 };
    this.apps.set(appId, [{ app, name: appId, ports, sidecarOnly: true, appPortKept: withAppPort }]);
    await this.startFirstTime(appId, 0);
    return this.endpoints(appId);
  }

  /** kill -9, for crash tests: the app, its daprd, or both (a whole replica, as a pod dies). */
  kill(appId: string, part: 'app' | 'daprd' | 'replica', replica = 0): void {
    const running = this.replica(appId, replica);
    if (part !== 'daprd') running.process?.kill();
    if (part !== 'app') running.daprd?.kill();
  }

  /** SIGTERM to a replica's app, then its daprd (a pod stopped by a rolling update). */
  async stopReplica(appId: string, replica = 0, graceMs = 10_000): Promise<void> {
    const running = this.replica(appId, replica);
    await running.process?.stop(graceMs);
    await running.daprd?.stop(graceMs);
  }

  async stop(): Promise<void> {
    const replicas = [...this.apps.values()].flat();
    await Promise.all(replicas.flatMap((running) => [running.process?.stop(5_000), running.daprd?.stop(5_000)]));
    await this.cli?.stop(15_000);
    await this.infra?.stop();
    process.off('exit', this.killAll);
    process.off('SIGINT', this.killAndExit);
    process.off('SIGTERM', this.killAndExit);
    if (!this.options.keepLogs) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Every process group we started, for a last-resort synchronous kill on exit. */
  pids(): number[] {
    return this.processes().map(({ pid }) => pid);
  }

  /** Every process we started, by name: redis, placement, scheduler, `<replica>-daprd` and `<replica>`. */
  processes(): { name: string; pid: number }[] {
    const services = [...(this.infra?.started ?? []), ...(this.cli ? [this.cli] : [])];
    for (const running of [...this.apps.values()].flat()) {
      if (running.daprd) services.push(running.daprd);
      if (running.process) services.push(running.process);
    }
    return services.flatMap((service) => (service.pid ? [{ name: service.name, pid: service.pid }] : []));
  }
}
