// Every place where we reach inside @dapr/dapr, in one module: deep imports, private fields and a patch.
// Each is a workaround for something the SDK does not let us configure (why, in docs/architecture.md).
// They hold for the version below; test/daprSdk.test.ts fails when the SDK changes under any of them.
import { createRequire } from 'node:module';
import type { DaprWorkflowClient as Client, WorkflowRuntime as Runtime } from '@dapr/dapr';
import { ConsoleLoggerService } from '@dapr/dapr/logger/ConsoleLoggerService.js';
import type { LoggerService } from '@dapr/dapr/types/logger/LoggerService.js';

/** The SDK version these workarounds were written for (a range: patch releases only). */
export const SDK_RANGE = '~3.18.0';

// The workflow modules alone: @dapr/dapr's index loads every client and server of the SDK (~30 MB).
const require = createRequire(import.meta.url);
export const DaprWorkflowClient = require('@dapr/dapr/workflow/client/DaprWorkflowClient.js').default as typeof Client;
export const WorkflowRuntime = require('@dapr/dapr/workflow/runtime/WorkflowRuntime.js').default as typeof Runtime;
export type { DaprWorkflowClient as WorkflowClient, WorkflowRuntime as WorkflowRuntimeType } from '@dapr/dapr';
export { LogLevel } from '@dapr/dapr/types/logger/LogLevel.js';
export { WorkflowRuntimeStatus } from '@dapr/dapr/workflow/runtime/WorkflowRuntimeStatus.js';

interface SdkWorker {
  _isRunning?: unknown;
  _maxConcurrentWorkItems?: unknown;
  _maxQueueSize?: unknown;
}

const workerOf = (runtime: Runtime) => (runtime as unknown as { worker?: SdkWorker }).worker;

/** Whether the runtime's worker still runs (undefined when the SDK no longer says). */
export function workerIsRunning(runtime: Runtime): boolean | undefined {
  const running = workerOf(runtime)?._isRunning;
  return typeof running === 'boolean' ? running : undefined;
}

/**
 * Raises the worker's limits of 10 work items at once and 100 queued (beyond which it drops work items);
 * false when the fields are not what we expect.
 */
export function widenWorker(runtime: Runtime, concurrency: number): boolean {
  const worker = workerOf(runtime);
  if (typeof worker?._maxConcurrentWorkItems !== 'number' || typeof worker._maxQueueSize !== 'number') return false;
  worker._maxConcurrentWorkItems = concurrency;
  worker._maxQueueSize = concurrency * 20;
  return true;
}

/** Silences a workflow client's own logger, which logs every call at INFO whatever its options say. */
export function quietClient(client: Client): boolean {
  const inner = (client as unknown as { _innerClient?: { logger?: { logLevel: number } } })._innerClient;
  if (!inner?.logger) return false;
  inner.logger.logLevel = -1;
  return true;
}

/**
 * The worker inside the SDK makes its own console loggers, which ignore the runtime's options and write
 * every work item at INFO, synchronously. Sends them to `service` instead (a process-wide patch).
 */
export function routeSdkConsoleLogs(service: LoggerService): void {
  const console = ConsoleLoggerService.prototype as unknown as Record<keyof LoggerService, unknown>;
  for (const level of ['error', 'warn', 'info', 'verbose', 'debug'] as const) {
    console[level] = (message: unknown, ...params: unknown[]) => service[level](message, ...params);
  }
}

export type { LoggerService };

// ---- workflow histories: recorded from the sidecar, replayed through the SDK's own executor ----------

const durabletask = '@dapr/dapr/workflow/internal/durabletask';
type HistoryEvent = { serializeBinary(): Uint8Array; getEventtypeCase(): number; getTimestamp(): unknown };
interface Pb {
  HistoryEvent: { deserializeBinary(bytes: Uint8Array): HistoryEvent; deserializeBinaryFromReader: unknown };
  OrchestratorStartedEvent: new () => unknown;
  OrchestrationStatus: Record<string, number>;
}
const pb = require(`${durabletask}/proto/orchestrator_service_pb.js`) as Pb & Record<string, unknown>;
const { OrchestrationExecutor } = require(`${durabletask}/worker/orchestration-executor.js`) as {
  OrchestrationExecutor: new (
    registry: unknown,
  ) => {
    execute(id: string, old: HistoryEvent[], fresh: HistoryEvent[]): Promise<{ actions: OrchestratorAction[] }>;
  };
};

interface OrchestratorAction {
  getCompleteorchestration():
    | {
        getOrchestrationstatus(): number;
        getResult(): { getValue(): string } | undefined;
        getFailuredetails(): { getErrortype(): string; getErrormessage(): string } | undefined;
      }
    | undefined;
}

/** The name of a history event's type, as the protocol calls it (e.g. TASKSCHEDULED). */
export function historyEventType(bytes: Uint8Array): string {
  const event = pb.HistoryEvent.deserializeBinary(bytes);
  const cases = (pb.HistoryEvent as unknown as { EventtypeCase: Record<string, number> }).EventtypeCase;
  return Object.keys(cases).find((name) => cases[name] === event.getEventtypeCase()) ?? 'UNKNOWN';
}

/** What a history event says of an activity: scheduled (with its input) or completed (with its result). */
export type ActivityEvent =
  | { scheduled: true; id: number; name: string; input: string }
  | { scheduled: false; id: number; result: string };

/** The activity a TASKSCHEDULED or TASKCOMPLETED history event is about (JSON texts); undefined for others. */
export function activityEvent(bytes: Uint8Array): ActivityEvent | undefined {
  const event = pb.HistoryEvent.deserializeBinary(bytes) as HistoryEvent & {
    getEventid(): number;
    getTaskscheduled(): { getName(): string; getInput(): { getValue(): string } | undefined } | undefined;
    getTaskcompleted(): { getTaskscheduledid(): number; getResult(): { getValue(): string } | undefined } | undefined;
  };
  const scheduled = event.getTaskscheduled();
  if (scheduled) {
    const input = scheduled.getInput()?.getValue() ?? '';
    return { scheduled: true, id: event.getEventid(), name: scheduled.getName(), input };
  }
  const completed = event.getTaskcompleted();
  if (!completed) return undefined;
  return { scheduled: false, id: completed.getTaskscheduledid(), result: completed.getResult()?.getValue() ?? '' };
}

/** An instance's history from its sidecar's gRPC API (GetInstanceHistory, which the SDK does not offer). */
export async function fetchHistory(
  grpcAddress: string,
  apiToken: string | undefined,
  instanceId: string,
): Promise<Uint8Array[]> {
  const grpc = await import('@grpc/grpc-js');
  const jspb = require('google-protobuf') as {
    BinaryWriter: new () => { writeString(field: number, value: string): void; getResultBuffer(): Uint8Array };
    BinaryReader: new (
      bytes: Uint8Array,
    ) => { nextField(): boolean; getFieldNumber(): number; readBytes(): Uint8Array; skipField(): void };
  };
  const client = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (apiToken) metadata.set('dapr-api-token', apiToken);
  try {
    return await new Promise<Uint8Array[]>((resolve, reject) => {
      client.makeUnaryRequest(
        '/TaskHubSidecarService/GetInstanceHistory',
        (id: string) => {
          const writer = new jspb.BinaryWriter();
          writer.writeString(1, id);
          return Buffer.from(writer.getResultBuffer());
        },
        (bytes: Buffer) => {
          const events: Uint8Array[] = [];
          const reader = new jspb.BinaryReader(bytes);
          while (reader.nextField()) {
            if (reader.getFieldNumber() === 1) events.push(reader.readBytes());
            else reader.skipField();
          }
          return events;
        },
        instanceId,
        metadata,
        (error, events) => (error ? reject(error) : resolve(events ?? [])),
      );
    });
  } finally {
    client.close();
  }
}

/** How a replayed history ended, as the executor decides it anew from the workflow's current code. */
export interface ReplayOutcome {
  /** COMPLETED, FAILED, …; undefined when the workflow would still wait. */
  status?: string;
  result?: string;
  failure?: { type: string; message: string };
}

/**
 * Replays a recorded history through the SDK's own orchestration executor with the workflows registered
 * on `runtime`: a workflow whose code no longer does what the history recorded fails with the SDK's
 * non-determinism error, naming the step.
 */
export async function replayHistory(
  runtime: Runtime,
  instanceId: string,
  history: Uint8Array[],
): Promise<ReplayOutcome> {
  const registry = (runtime as unknown as { worker?: { _registry?: unknown } }).worker?._registry;
  if (!registry) throw new Error("the SDK's worker has no registry any more: daprSdk.ts needs a look");
  const events = history.map((bytes) => pb.HistoryEvent.deserializeBinary(bytes));
  // One new event, as when the sidecar hands the workflow its next work item: the last one's time again.
  const started = new (pb.HistoryEvent as unknown as new () => HistoryEvent & Record<string, (v: unknown) => void>)();
  started.setEventid?.(-1);
  started.setTimestamp?.(events.at(-1)?.getTimestamp());
  started.setOrchestratorstarted?.(new pb.OrchestratorStartedEvent());
  const { actions } = await new OrchestrationExecutor(registry).execute(instanceId, events, [started]);
  const completion = actions.map((action) => action.getCompleteorchestration()).find(Boolean);
  if (!completion) return {};
  const statuses = pb.OrchestrationStatus;
  const status = Object.keys(statuses)
    .find((name) => statuses[name] === completion.getOrchestrationstatus())
    ?.replace('ORCHESTRATION_STATUS_', '');
  const failure = completion.getFailuredetails();
  return {
    ...(status ? { status } : {}),
    ...(completion.getResult() ? { result: completion.getResult()?.getValue() } : {}),
    ...(failure ? { failure: { type: failure.getErrortype(), message: failure.getErrormessage() } } : {}),
  };
}
