// The benchmark's three workloads, one item at a time: a floor workflow or a calls workflow on the floor's
// own worker (bench/floor.ts), or an order, `POST /orders` until its workflow is COMPLETED. Completion is
// watched with `waitForWorkflowCompletion` on the sidecar, not by polling, so the watching costs the
// stack as little as it can.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaprWorkflowClient, WorkflowRuntimeStatus } from '@dapr/dapr';
import { type Agent, request } from 'undici';
import { quietClient } from '#shared/daprSdk.ts';
import { info } from '../scripts/lib/ui.ts';
import { CALLS_WORKFLOW, FLOOR_WORKFLOW, type FloorInput } from './floor.ts';
import { BENCH_ORDER } from './options.ts';

/** One item of a workload, by its index in the phase. */
export type Workload = (index: number) => Promise<unknown>;

/** A workflow client of the sidecar on `port`, silenced: the SDK's client logs every call at INFO on the console. */
export function quietWorkflowClient(port: number, token: string | undefined): DaprWorkflowClient {
  const client = new DaprWorkflowClient({
    daprHost: '127.0.0.1',
    daprPort: String(port),
    ...(token ? { daprApiToken: token } : {}),
  });
  quietClient(client);
  return client;
}

/** Waits for the instance to end: anything but COMPLETED with success is an error. */
async function completed(client: DaprWorkflowClient, id: string, timeoutSeconds: number): Promise<void> {
  const state = await client.waitForWorkflowCompletion(id, true, timeoutSeconds);
  if (!state) throw new Error('instance not found');
  if (state.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) {
    // Without the instance id, so that the report counts alike failures together.
    const failure = state.workflowFailureDetails?.getErrorMessage()?.replaceAll(id, '<id>');
    throw new Error(`${WorkflowRuntimeStatus[state.runtimeStatus]}${failure ? `: ${failure}` : ''}`);
  }
  const output = JSON.parse(state.serializedOutput ?? '{}') as { success?: boolean; message?: string };
  if (output.success !== true) throw new Error(`completed without success: ${output.message ?? '?'}`);
}

/** Where the floor's two workloads run: its worker's sidecar. */
export interface FloorTargets {
  floorClient: DaprWorkflowClient;
  floorSteps: number;
  timeoutSeconds: number;
}

/** The floor and the floor plus an order's Dapr calls, each a workflow on the floor's worker. */
export function floorWorkloads(targets: FloorTargets): Record<'floor' | 'calls', Workload> {
  const { floorClient, timeoutSeconds } = targets;
  const runId = randomBytes(3).toString('hex');
  const onFloorWorker =
    (workflow: string): Workload =>
    async (index) => {
      const id = `${workflow}-${runId}-${index}-${randomBytes(2).toString('hex')}`;
      const input: FloorInput = {
        id,
        steps: targets.floorSteps,
        payload: { orderId: id, order: BENCH_ORDER, approvalTimeoutMs: 86_400_000 },
      };
      await floorClient.scheduleNewWorkflow(workflow, input, id);
      await completed(floorClient, id, timeoutSeconds);
    };
  return { floor: onFloorWorker(FLOOR_WORKFLOW), calls: onFloorWorker(CALLS_WORKFLOW) };
}

/** Where orders go: orderprocessing's API, and its sidecar to watch them complete. */
export interface OrderTargets {
  orderClient: DaprWorkflowClient;
  ordersUrl: string;
  /** Kept-alive connections for the orders' POSTs. */
  keptAlive: Agent;
  timeoutSeconds: number;
}

/** Places the benchmark's order (`BENCH_ORDER`, auto-approved) and resolves to its id once it is COMPLETED. */
export function orderWorkload(targets: OrderTargets): (index: number) => Promise<string> {
  const { orderClient, timeoutSeconds } = targets;
  // undici's `request` over kept-alive connections, not `fetch`: the load generator shares the two cores
  // with the stack, and `fetch` cost it about 1.5 ms of CPU per order (its profile, 20 s at 30 in flight).
  const orderBody = JSON.stringify(BENCH_ORDER);
  return async () => {
    const response = await request(targets.ordersUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: orderBody,
      dispatcher: targets.keptAlive,
      headersTimeout: timeoutSeconds * 1000,
      bodyTimeout: timeoutSeconds * 1000,
    });
    const body = (await response.body.json().catch(() => ({}))) as { id?: string; message?: string };
    if (response.statusCode !== 202 || !body.id) {
      throw new Error(`POST /orders answered ${response.statusCode}${body.message ? `: ${body.message}` : ''}`);
    }
    await completed(orderClient, body.id, timeoutSeconds);
    return body.id;
  };
}

/** The first item may meet a sidecar or worker still settling: it is tried again for a minute. */
export async function firstSucceeds(what: string, one: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await one();
      return;
    } catch (error) {
      if (Date.now() > deadline || signal.aborted) throw error;
      info(`  … ${what}: ${(error as Error).message}; trying again`);
      await sleep(1000);
    }
  }
}
