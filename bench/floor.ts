// The engine's floor (a workflow of as many no-op `callActivity` steps as an auto-approved order) and the
// floor plus an order's Dapr calls with empty handlers, run by bench/run.ts as an app of their own beside
// their own sidecar: the difference to an order is what the order's own work costs (docs/architecture.md,
// "The benchmark").

import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type WorkflowActivityContext, type WorkflowContext, WorkflowRuntime } from '@dapr/dapr';
import { DaprHttpClient } from '#shared/dapr.ts';
import { routeSdkConsoleLogs, widenWorker } from '#shared/daprSdk.ts';
import { waitForSidecar } from '#shared/sidecar.ts';

export const FLOOR_APP_ID = 'benchfloor';
export const FLOOR_WORKFLOW = 'benchFloor';
export const CALLS_WORKFLOW = 'benchCalls';
const NOOP = 'noop';
const CALL = 'call';
/** Published to, subscribed to by nobody: the publish costs what it costs, the delivery is left out. */
export const CALLS_TOPIC = 'bench-calls';

/**
 * The services an auto-approved order's activities call, in services/orderprocessing/src/workflow/
 * orderWorkflow.ts: reserveInventory, chargePayment, shipOrder (each publishes its own notifications).
 */
export const ORDER_SERVICES = ['inventory', 'payments', 'shipping'] as const;
export const ORDER_STEPS = ORDER_SERVICES.length;

export interface FloorInput {
  id: string;
  steps: number;
  /** Ballast of about an order's size, so the engine stores and sends histories of similar size. */
  payload: unknown;
}

export interface FloorResult {
  id: string;
  success: boolean;
  steps: number;
}

/** An async generator, as the SDK needs: it takes a plain generator for a workflow that schedules nothing. */
export async function* floorWorkflow(ctx: WorkflowContext, input: FloorInput): AsyncGenerator<unknown, FloorResult> {
  for (let step = 1; step <= input.steps; step++) {
    yield ctx.callActivity(NOOP, { id: input.id, step });
  }
  return { id: input.id, success: true, steps: input.steps };
}

async function noop(_: WorkflowActivityContext, input: unknown): Promise<unknown> {
  return input;
}

interface CallInput {
  id: string;
  appId: (typeof ORDER_SERVICES)[number];
  /** The first step also publishes the order's "received" while its call runs, as reserveInventory does. */
  announceBefore: boolean;
}

/** The floor's steps, each making an order step's Dapr calls (see the top of this file). */
export async function* callsWorkflow(ctx: WorkflowContext, input: FloorInput): AsyncGenerator<unknown, FloorResult> {
  for (const [index, appId] of ORDER_SERVICES.entries()) {
    const call: CallInput = { id: input.id, appId, announceBefore: index === 0 };
    yield ctx.callActivity(CALL, call);
  }
  return { id: input.id, success: true, steps: ORDER_SERVICES.length };
}

/** An order step's calls, as services/orderprocessing/src/workflow/activities.ts makes them. */
function orderStepCalls(dapr: DaprHttpClient) {
  const publishNotification = (id: string, kind: string) =>
    dapr.publish(CALLS_TOPIC, {
      id: `${id}:${kind}`,
      orderId: id,
      kind,
      text: 'A notification of about the size of an order step’s',
      customer: 'Bench',
      time: new Date().toISOString(),
    });
  return async (_: WorkflowActivityContext, { id, appId, announceBefore }: CallInput): Promise<void> => {
    await Promise.all([
      announceBefore ? publishNotification(id, 'before') : undefined,
      dapr.invoke(appId, 'healthz', undefined, { httpMethod: 'GET' }),
    ]);
    await publishNotification(id, appId);
  };
}

/**
 * The app port its sidecar has, as the apps' sidecars have theirs: GET /healthz answers, nothing else does
 * (the sidecar asks for /dapr/config and /dapr/subscribe at start; a 404 says there are none).
 */
function listenOnAppPort(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const healthz = request.method === 'GET' && request.url === '/healthz';
    response.writeHead(healthz ? 200 : 404, { 'content-type': 'application/json' });
    response.end(healthz ? '{"status":"ok"}' : '{}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const host = process.env.DAPR_HOST ?? '127.0.0.1';
  const httpPort = Number(process.env.DAPR_HTTP_PORT);
  const grpcPort = process.env.DAPR_GRPC_PORT;
  if (!httpPort || !grpcPort) throw new Error('DAPR_HTTP_PORT and DAPR_GRPC_PORT must be set');
  const appPort = Number(process.env.APP_PORT ?? 0);
  const server = appPort ? await listenOnAppPort(appPort) : undefined;
  // The SDK's worker gives up for good when its very first connection fails: only start it once the
  // sidecar answers.
  await waitForSidecar(host, httpPort);
  const toStderr = (message: unknown) => process.stderr.write(`${String(message)}\n`);
  const ignore = () => undefined;
  routeSdkConsoleLogs({ error: toStderr, warn: toStderr, info: ignore, verbose: ignore, debug: ignore });
  const runtime = new WorkflowRuntime({
    daprHost: host,
    daprPort: grpcPort,
    ...(process.env.DAPR_API_TOKEN ? { daprApiToken: process.env.DAPR_API_TOKEN } : {}),
  })
    .registerWorkflowWithName(FLOOR_WORKFLOW, floorWorkflow)
    .registerActivityWithName(NOOP, noop)
    .registerWorkflowWithName(CALLS_WORKFLOW, callsWorkflow)
    .registerActivityWithName(
      CALL,
      orderStepCalls(new DaprHttpClient({ host, httpPort, apiToken: process.env.DAPR_API_TOKEN || undefined })),
    );
  const concurrency = Number(process.env.WORKFLOW_CONCURRENCY ?? 200); // orderprocessing's default
  if (!widenWorker(runtime, concurrency)) process.stdout.write('could not widen the SDK worker: its default stays\n');
  await runtime.start();
  process.stdout.write(`floor worker started against ${host}:${grpcPort}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Drains what is in flight (the SDK waits up to 30 s); the caller kills us after its grace period.
    server?.close();
    runtime.stop().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`floor worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
