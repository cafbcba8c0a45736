// `npm start`: the whole system on the real Dapr runtime. Bootstraps what is missing, starts (or reuses)
// Redis and Zipkin, starts Sentry, placement and scheduler (mTLS with a CA of this run's own), then runs
// the real Dapr CLI on dapr.yaml written again under .run/ with each app's own tokens (cliRun.ts).
// Ctrl+C stops what this script started, and nothing else.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap } from './bootstrap.ts';
import { exitedApp } from './lib/cliOutput.ts';
import { withoutTokens, writeCliRunFile } from './lib/cliRun.ts';
import { goDuration, readDaprRunFile, writeConfigurations } from './lib/daprfile.ts';
import { writeDemoEnv } from './lib/demoEnv.ts';
import { type ExtraReplica, startExtraReplicas } from './lib/extraReplicas.ts';
import { Infra } from './lib/infra.ts';
import { httpOk, isAlive, isListening, Service, signalGroup, waitFor } from './lib/proc.ts';
import { parseReplicas } from './lib/replicas.ts';
import { goRuntimeEnv, infraPorts, repoRoot, runDir } from './lib/runtime.ts';
import { sidecarMtls } from './lib/sentry.ts';
import { appTokenEnv, type Credentials, sessionCredentials, tokenVariables } from './lib/tokens.ts';
import { info, main, ScriptError, sinceStart, warn } from './lib/ui.ts';

const pidFile = join(runDir, 'pids.json');

interface Recorded {
  pid: number;
  name: string;
}

/** A previous `npm start` that was killed outright (no Ctrl+C) may have left its process groups behind. */
function stopLeftovers(): void {
  if (!existsSync(pidFile)) return;
  const recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as Recorded[];
  for (const { pid, name } of recorded) {
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (isAlive(pid) && cmdline.includes(name)) {
      warn(`stopping ${name} (pid ${pid}) left over from an earlier npm start`);
      signalGroup(pid, 'SIGKILL');
    }
  }
}

function describeCredentials(credentials: Credentials): string {
  if (credentials.generated.length === 0) return '  Tokens         from your environment';
  const approvers = Object.entries(credentials.approvers)
    .map(([name, token]) => `${name} ${token}`)
    .join(', ');
  // Each app's pair is named by its own variables; listing all ten would drown the two people need.
  const perApp = new Set(Object.keys(credentials.apps).flatMap((appId) => Object.values(tokenVariables(appId))));
  const shared = credentials.generated.filter((name) => !perApp.has(name));
  const anyPerApp = credentials.generated.some((name) => perApp.has(name));
  const settable = [...shared, ...(anyPerApp ? ['DAPR_API_TOKEN_<APP>', 'APP_API_TOKEN_<APP>'] : [])];
  return [
    `  Generated for this session (set ${settable.join(', ')} to choose your own; also in .env and http-client.private.env.json for demo.http):`,
    `    approvers    ${approvers}     (Authorization: Bearer <token> on POST /orders/:id/approve)`,
    `    admin        ${credentials.admin}     (POST :3004/shipping/deactivate | activate)`,
    ...(anyPerApp
      ? [
          "    each app     its own Dapr API and app tokens (in .run/dapr.yaml; inventory's and payments' app tokens in .env)",
        ]
      : []),
  ].join('\n');
}

function describeReplicas(extra: ExtraReplica[]): string {
  if (extra.length === 0) return '';
  return `  Replicas       ${extra.map((replica) => `${replica.name} :${replica.appPort}`).join(', ')} (logs in .run/logs/)\n`;
}

/** What an earlier npm start left running is stopped by pid, if its command line still names it. */
/** Why start-up cannot succeed: an app the CLI started exited, with its own error. */
function appExitReason(cli: Service | undefined): string | undefined {
  const exited = cli && exitedApp(cli.recentOutput());
  return exited && `exited during start-up:\n  ${exited.lines.join('\n  ')}`;
}

function recordPids(services: Service[], extra: ExtraReplica[] = []): void {
  const recorded: Recorded[] = services.flatMap((s) => (s.pid ? [{ pid: s.pid, name: s.name }] : []));
  for (const [app, daprd] of extra.map((replica) => replica.services)) {
    if (app?.pid) recorded.push({ pid: app.pid, name: 'server.js' });
    if (daprd?.pid) recorded.push({ pid: daprd.pid, name: 'daprd' });
  }
  writeFileSync(pidFile, `${JSON.stringify(recorded)}\n`);
}

main(async () => {
  const runFile = readDaprRunFile();
  const replicas = parseReplicas(
    process.env.REPLICAS,
    runFile.apps.map((app) => app.appId),
  );
  mkdirSync(runDir, { recursive: true });
  stopLeftovers();

  for (const app of runFile.apps) {
    for (const port of [app.appPort, app.daprHttpPort, app.daprGrpcPort]) {
      if (await isListening(port)) {
        throw new ScriptError(
          `port ${port} (${app.appId}) is in use: is another npm start running? ScriptError it or free the port.`,
        );
      }
    }
  }

  const { cli } = await bootstrap({ reuseRunning: true, chromium: false });

  const credentials = sessionCredentials(runFile.apps.map((app) => app.appId));
  writeDemoEnv(credentials, repoRoot);
  const infra = new Infra({ dir: runDir, ports: infraPorts, reuse: true, verbose: true });
  let daprRun: Service | undefined;
  let extra: ExtraReplica[] = [];
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    info(`\n▸ stopping (${why})…`);
    await Promise.all(extra.flatMap((replica) => replica.services.map((service) => service.stop(15_000))));
    await daprRun?.stop(15_000);
    await infra.stop();
    info('✓ stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }

  try {
    await infra.start();
    recordPids(infra.started);

    // ORDER_HISTORY_RETENTION: the sidecars' configurations written again with that retention.
    const retention = process.env.ORDER_HISTORY_RETENTION;
    const configFiles = retention
      ? writeConfigurations(runFile.apps, runDir, (config) => {
          config.spec.workflow.stateRetentionPolicy.anyTerminal = goDuration(retention);
        })
      : Object.fromEntries(runFile.apps.map((app) => [app.appId, app.configFile]));
    const mtls = sidecarMtls(infra.mtls);
    const generatedRunFile = join(runDir, 'dapr.yaml');
    writeCliRunFile({
      file: generatedRunFile,
      runtimeDir: join(runDir, 'sidecars'),
      resourcesDir: runFile.resourcesPath,
      apps: runFile.apps.map((app) => ({
        appId: app.appId,
        env: { ...credentials.env, ...appTokenEnv(credentials, app.appId) },
        configFile: configFiles[app.appId] ?? app.configFile,
        sidecar: { env: { ...appTokenEnv(credentials, app.appId), ...mtls.env }, args: mtls.args },
      })),
    });
    // CLI 1.12 knows nothing of the scheduler; daprd 1.18 still reads its address from this variable.
    const schedulerEnv = { DAPR_SCHEDULER_HOST_ADDRESS_DNS_A: `localhost:${infraPorts.scheduler}` };
    daprRun = new Service('dapr-run', cli, ['run', '-f', generatedRunFile], join(runDir, 'logs', 'dapr-run.log'), {
      cwd: repoRoot,
      // No token goes through the CLI's environment, which it hands to every app and daprd alike.
      env: { ...withoutTokens(goRuntimeEnv()), ...schedulerEnv },
    });
    recordPids([...infra.started, daprRun]);
    daprRun.child.on('exit', (code) => {
      if (!stopping) void shutdown(`dapr run exited with code ${code}; see .run/logs/dapr-run.log`, 1);
    });
    info(`▸ dapr run -f .run/dapr.yaml (${cli}); logs in .run/logs/dapr-run.log and services/*/.dapr/logs/`);

    await Promise.all(
      runFile.apps.map((app) =>
        waitFor(
          app.appId,
          async () =>
            (await httpOk(`http://127.0.0.1:${app.daprHttpPort}/v1.0/healthz`)) &&
            (await httpOk(`http://127.0.0.1:${app.appPort}${runFile.appHealthCheckPath}`)),
          { timeoutMs: 90_000, alive: () => daprRun?.exitReason() ?? appExitReason(daprRun) },
        ),
      ),
    );
    if (Object.values(replicas).some((count) => count > 1)) {
      info('▸ starting the further replicas (REPLICAS)…');
      const settings = { configFiles, credentials, mtls: infra.mtls, env: schedulerEnv };
      extra = await startExtraReplicas(runFile, replicas, settings);
      recordPids([...infra.started, daprRun], extra);
    }
  } catch (error) {
    if (error instanceof ScriptError) process.stderr.write(`✗ ${error.message}\n`);
    await shutdown('start-up failed', 1);
    return;
  }

  const port = (id: string) => runFile.apps.find((app) => app.appId === id)?.appPort;
  info(`
✓ ready in ${sinceStart()}
  API            http://localhost:${port('orderprocessing')}/orders
  Live page      http://localhost:${port('notifications')}/
  Zipkin         http://localhost:${infraPorts.zipkin}/
  Try demo.http, or: curl -i -X POST localhost:${port('orderprocessing')}/orders -H 'content-type: application/json' \\
    -d '{"customer":"Riley","items":["milk","bread"],"total":12.5}'
${describeReplicas(extra)}${describeCredentials(credentials)}
Ctrl+C stops everything this started.`);
});
