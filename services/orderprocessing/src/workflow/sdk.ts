// The parts of @dapr/dapr that orderprocessing runs, loaded from their own modules: the package's index
// loads every client and server of the SDK (HTTP and gRPC clients, the app server, actors), which costs
// the process ~30 MB of memory for nothing. Types may still come from '@dapr/dapr' (`import type` loads
// nothing). The two classes are CommonJS default exports, which `require` hands over the same way under
// Node and under Vitest.
import { createRequire } from 'node:module';
import type { DaprWorkflowClient as Client, WorkflowRuntime as Runtime } from '@dapr/dapr';

const require = createRequire(import.meta.url);

export const DaprWorkflowClient = require('@dapr/dapr/workflow/client/DaprWorkflowClient.js').default as typeof Client;
export const WorkflowRuntime = require('@dapr/dapr/workflow/runtime/WorkflowRuntime.js').default as typeof Runtime;
export { LogLevel } from '@dapr/dapr/types/logger/LogLevel.js';
export { WorkflowRuntimeStatus } from '@dapr/dapr/workflow/runtime/WorkflowRuntimeStatus.js';
