// The guard of daprSdk.ts: each workaround still finds what it reaches for in the installed SDK, and the
// SDK is the version they were written for. When @dapr/dapr changes, this fails before production does.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConsoleLoggerService } from '@dapr/dapr/logger/ConsoleLoggerService.js';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import {
  DaprWorkflowClient,
  quietClient,
  SDK_RANGE,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
  widenWorker,
  workerIsRunning,
} from '#shared/daprSdk.ts';

const installed = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@dapr/dapr/package.json'), 'utf8'),
) as { version: string };

describe('the workarounds for the Dapr SDK (daprSdk.ts)', () => {
  it('were written for the installed version', () => {
    expect(semver.satisfies(installed.version, SDK_RANGE), `@dapr/dapr ${installed.version}`).toBe(true);
  });

  it("load the workflow's own modules, never @dapr/dapr's index (which loads every client and server)", () => {
    // A fresh process, since this test's own imports (types aside) must not decide the outcome.
    const script = `
      import { createRequire } from 'node:module';
      await import('./services/orderprocessing/src/app.ts');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        index: loaded.some((file) => file.endsWith('/@dapr/dapr/index.js')),
        workflow: loaded.some((file) => file.endsWith('/@dapr/dapr/workflow/runtime/WorkflowRuntime.js')),
      }));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
      encoding: 'utf8',
    });
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toEqual({ index: false, workflow: true });
    expect(WorkflowRuntimeStatus[WorkflowRuntimeStatus.COMPLETED]).toBe('COMPLETED');
  });

  it("find the worker's private limits (10 at once, 100 queued) and raise them, and its running flag", () => {
    const runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: '1' });
    const worker = (runtime as unknown as { worker: Record<string, unknown> }).worker;
    expect(worker._maxConcurrentWorkItems).toBe(10);
    expect(workerIsRunning(runtime)).toBe(false);
    expect(widenWorker(runtime, 200)).toBe(true);
    expect(worker._maxConcurrentWorkItems).toBe(200);
    expect(worker._maxQueueSize).toBe(4000);
  });

  it("find the client's inner logger", () => {
    const client = new DaprWorkflowClient({ daprHost: '127.0.0.1', daprPort: '1' });
    expect(quietClient(client)).toBe(true);
  });

  it('find every level of the console logger they patch', () => {
    for (const level of ['error', 'warn', 'info', 'verbose', 'debug']) {
      expect(typeof (ConsoleLoggerService.prototype as unknown as Record<string, unknown>)[level]).toBe('function');
    }
  });
});
