// The engine's floor: a workflow with as many `callActivity` steps as an auto-approved order, each one a
// no-op in this process. bench/run.ts runs this file as its own app (`benchfloor`) beside its own sidecar,
// started with the stack's flags (same placement, scheduler, components and Redis state store), so the
// difference between the floor and an order is what the order's own work costs.
//
// Run as a process: DAPR_HTTP_PORT, DAPR_GRPC_PORT and DAPR_API_TOKEN (when the sidecar wants one)
// describe the sidecar. The SDK's worker is set up as orderprocessing sets up its own (the same widened
// work-item limits, WORKFLOW_CONCURRENCY with the same default; the SDK's console lines routed away the
// same way, warnings and errors kept), so that both sides pay the same SDK costs.

import { fileURLToPath } from 'node:url';
import { type WorkflowActivityContext, type WorkflowContext, WorkflowRuntime } from '@dapr/dapr';
import { routeSdkConsoleLogs, waitForSidecar } from '#shared/sidecar.ts';
import { widenWorker } from '../services/orderprocessing/src/workflow/worker.ts';

export const FLOOR_APP_ID = 'benchfloor';
export const FLOOR_WORKFLOW = 'benchFloor';
const NOOP = 'noop';

/**
 * The activities an auto-approved order calls, in services/orderprocessing/src/workflow/orderWorkflow.ts:
 * reserveInventory, chargePayment, shipOrder (each publishes its own notifications).
 */
export const ORDER_STEPS = 3;

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

async function main(): Promise<void> {
  const host = process.env.DAPR_HOST ?? '127.0.0.1';
  const httpPort = Number(process.env.DAPR_HTTP_PORT);
  const grpcPort = process.env.DAPR_GRPC_PORT;
  if (!httpPort || !grpcPort) throw new Error('DAPR_HTTP_PORT and DAPR_GRPC_PORT must be set');
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
    .registerActivityWithName(NOOP, noop);
  const concurrency = Number(process.env.WORKFLOW_CONCURRENCY ?? 200); // orderprocessing's default
  if (!widenWorker(runtime, concurrency)) process.stdout.write('could not widen the SDK worker: its default stays\n');
  await runtime.start();
  process.stdout.write(`floor worker started against ${host}:${grpcPort}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Drains what is in flight (the SDK waits up to 30 s); the caller kills us after its grace period.
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
