import { WorkflowRuntime } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { widenWorker } from '../src/workflow/worker.ts';

describe('widenWorker', () => {
  it("raises the SDK worker's limits of 10 work items at once and 100 queued", () => {
    const runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: '1' });
    const worker = (runtime as unknown as { worker: Record<string, unknown> }).worker;
    expect(worker._maxConcurrentWorkItems).toBe(10);
    expect(widenWorker(runtime, 200)).toBe(true);
    expect(worker._maxConcurrentWorkItems).toBe(200);
    expect(worker._maxQueueSize).toBe(4000);
  });
});
