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
