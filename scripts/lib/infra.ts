// The infrastructure under the sidecars: Redis, Zipkin, Sentry, placement and scheduler. `npm start` runs it
// on the Dapr default ports and reuses a Redis or Zipkin already answering there; the tests run a private
// copy on free ports. Sentry, placement and scheduler are always our own: they share this run's CA (mTLS).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpOk, isListening, redisAnswers, Service, waitFor } from './proc.ts';
import { daprBin, goRuntimeEnv, zipkinJar } from './runtime.ts';
import { controlPlaneMtls, type Mtls, Sentry } from './sentry.ts';
import { info, ScriptError } from './ui.ts';

export interface InfraPorts {
  redis: number;
  placement: number;
  scheduler: number;
  sentry: number;
  /** Absent: no Zipkin (the sidecars' spans then go nowhere). */
  zipkin?: number;
}

export interface InfraOptions {
  /** Logs and data (Redis append-only file, the scheduler's etcd). */
  dir: string;
  ports: InfraPorts;
  /** Reuse a Redis or Zipkin already answering on its port instead of failing. */
  reuse: boolean;
  /** Printed progress (npm start) or quiet (tests). */
  verbose?: boolean;
}

export class Infra {
  /** What we started, in start order; reused servers are not ours to stop. */
  readonly started: Service[] = [];
  private sentry: Sentry;
  private mtlsSettings: Mtls | undefined;

  constructor(readonly options: InfraOptions) {
    this.sentry = new Sentry(options.dir);
  }

  /** What the sidecars need for mTLS; known once start() has started Sentry. */
  get mtls(): Mtls {
    if (!this.mtlsSettings) throw new Error('the infrastructure has not started Sentry yet');
    return this.mtlsSettings;
  }

  private say(message: string): void {
    if (this.options.verbose) info(message);
  }

  async start(): Promise<void> {
    const { ports } = this.options;
    mkdirSync(this.options.dir, { recursive: true });
    // Placement and scheduler ask Sentry for their identity as they start: it comes first.
    const redis = this.startRedis(ports.redis);
    redis.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    await this.startSentry(ports.sentry);
    await Promise.all([
      redis,
      this.startPlacement(ports.placement),
      this.startScheduler(ports.scheduler),
      ports.zipkin === undefined ? undefined : this.startZipkin(ports.zipkin),
    ]);
  }

  /** Stops what we started, newest first. */
  async stop(): Promise<void> {
    for (const service of [...this.started].reverse()) await service.stop();
  }

  private async launch(
    name: string,
    command: string,
    args: string[],
    ready: () => Promise<boolean>,
    timeoutMs = 30_000,
  ): Promise<Service> {
    const service = new Service(name, command, args, join(this.options.dir, 'logs', `${name}.log`), {
      cwd: this.options.dir,
      env: goRuntimeEnv(),
    });
    this.started.push(service);
    await waitFor(name, ready, { timeoutMs, alive: service.exitReason });
    this.say(`✓ ${name} started (pid ${service.pid}, log ${service.logFile})`);
    return service;
  }

  /** Reuse when allowed and `answers`; fail clearly when the port is held by something else. */
  private async reusable(name: string, port: number, answers: () => Promise<boolean>): Promise<boolean> {
    if (!(await isListening(port))) return false;
    if (this.options.reuse && (await answers())) {
      this.say(`✓ ${name} already answering on :${port} (reused)`);
      return true;
    }
    throw new ScriptError(`port ${port}, which ${name} needs, is taken by another program: stop it or free the port.`);
  }

  private async startRedis(port: number): Promise<void> {
    if (await this.reusable('redis', port, () => redisAnswers(port))) return;
    const dataDir = join(this.options.dir, 'redis');
    mkdirSync(dataDir, { recursive: true });
    // Append-only file, fsync every second: a Redis restart loses at most a second of state.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes'];
    await this.launch('redis', 'redis-server', [...args, '--appendfsync', 'everysec', '--save', ''], () =>
      redisAnswers(port),
    );
  }

  /** Zipkin with in-memory storage; `maxHeapMb` bounds its memory (the tests keep few spans). */
  async startZipkin(port: number, maxHeapMb = 384): Promise<void> {
    const health = `http://127.0.0.1:${port}/health`;
    if (await this.reusable('zipkin', port, () => httpOk(health))) return;
    const args = ['-Xms64m', `-Xmx${maxHeapMb}m`, '-XX:+UseSerialGC', '-jar', zipkinJar, `--server.port=${port}`];
    await this.launch('zipkin', 'java', args, () => httpOk(health), 90_000);
  }

  /** Fails clearly when a port of the control plane is taken: one of another run's CA cannot serve ours. */
  private async mustBeFree(name: string, port: number): Promise<void> {
    if (await isListening(port)) {
      throw new ScriptError(
        `port ${port}, which ${name} needs, is taken by another program: stop it or free the port.`,
      );
    }
  }

  private async startSentry(port: number): Promise<void> {
    await this.mustBeFree('sentry', port);
    await this.sentry.issueCredentials(join(this.options.dir, 'logs'));
    const [healthz, metrics] = [await freePort(), await freePort()];
    await this.launch('sentry', daprBin('sentry'), this.sentry.args(port, healthz, metrics), () =>
      httpOk(`http://127.0.0.1:${healthz}/healthz`),
    );
    this.mtlsSettings = this.sentry.mtls(port);
  }

  private async startPlacement(port: number): Promise<void> {
    await this.mustBeFree('placement', port);
    const [healthz, metrics, raft] = [await freePort(), await freePort(), await freePort()];
    const flags: Record<string, string> = {
      '--listen-address': '127.0.0.1',
      '--port': String(port),
      // Its Raft peer port defaults to 8201: one per placement, so two stacks can coexist.
      '--initial-cluster': `dapr-placement-0=127.0.0.1:${raft}`,
      '--healthz-port': String(healthz),
      '--metrics-port': String(metrics),
    };
    const args = [...Object.entries(flags).flat(), ...controlPlaneMtls(this.mtls)];
    await this.launch('placement', daprBin('placement'), args, () => httpOk(`http://127.0.0.1:${healthz}/healthz`));
  }

  private async startScheduler(port: number): Promise<void> {
    await this.mustBeFree('scheduler', port);
    const [healthz, metrics, etcd, etcdPeer] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const flags: Record<string, string> = {
      '--listen-address': '127.0.0.1',
      '--port': String(port),
      '--etcd-data-dir': join(this.options.dir, 'scheduler'),
      '--etcd-client-port': String(etcd),
      // etcd's peer port defaults to 2380: one per scheduler, so two stacks can coexist.
      '--etcd-initial-cluster': `dapr-scheduler-server-0=http://localhost:${etcdPeer}`,
      '--healthz-port': String(healthz),
      '--metrics-port': String(metrics),
      '--override-broadcast-host-port': `localhost:${port}`,
      // Dapr's etcd defaults are sized for a cluster's volume; every workflow step writes and deletes jobs,
      // so on one machine they let the scheduler grow without end. Snapshots every 10,000 entries, one
      // minute of history, two write-ahead logs and snapshots keep it bounded (measured: the README's
      // "What is kept, and for how long", bench/results/experiments.md).
      '--etcd-snapshot-count': '10000',
      '--etcd-compaction-mode': 'periodic',
      '--etcd-compaction-retention': '1m',
      '--etcd-max-wals': '2',
      '--etcd-max-snapshots': '2',
    };
    const args = [...Object.entries(flags).flat(), ...controlPlaneMtls(this.mtls)];
    await this.launch(
      'scheduler',
      daprBin('scheduler'),
      args,
      () => httpOk(`http://127.0.0.1:${healthz}/healthz`),
      60_000,
    );
  }
}
