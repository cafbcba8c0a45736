// Keeps the workflow worker connected to its sidecar. The SDK's worker (@dapr/dapr 3.18) reconnects
// after a dropped stream only if its first stream is not the one that drops: when the sidecar restarts
// under a worker that had been connected since start-up, the worker stops for good ("Worker failed"),
// and the app would never run a workflow step again. This supervisor notices and starts it again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowRuntime } from '@dapr/dapr';
import type { FastifyBaseLogger } from 'fastify';

interface SdkWorker {
  _isRunning?: unknown;
  _maxConcurrentWorkItems?: unknown;
  _maxQueueSize?: unknown;
}

/** The SDK keeps its worker's state in private fields; reach them without depending on their types. */
const sdkWorker = (runtime: WorkflowRuntime) => (runtime as unknown as { worker?: SdkWorker }).worker;

function workerIsRunning(runtime: WorkflowRuntime): boolean | undefined {
  const running = sdkWorker(runtime)?._isRunning;
  return typeof running === 'boolean' ? running : undefined;
}

/**
 * The SDK's worker runs at most 10 work items at once and queues 100 more, then *drops* work items
 * ("Work item queue full"), with no option to change either. Ten is too few for activities that wait on
 * other services (orders per second = 10 ÷ activity latency), and a dropped item stalls its workflow
 * until the sidecar sends it again. Raise both, where the fields are still what we expect.
 */
export function widenWorker(runtime: WorkflowRuntime, concurrency: number): boolean {
  const worker = sdkWorker(runtime);
  if (typeof worker?._maxConcurrentWorkItems !== 'number' || typeof worker._maxQueueSize !== 'number') return false;
  worker._maxConcurrentWorkItems = concurrency;
  worker._maxQueueSize = concurrency * 20;
  return true;
}

export class SupervisedWorker {
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly runtime: WorkflowRuntime,
    private readonly sidecarReady: () => Promise<void>,
    private readonly log: FastifyBaseLogger,
    private readonly checkEveryMs = 1000,
  ) {}

  /** Starts the worker once the sidecar is up, and keeps it running until `stop`. */
  start(): void {
    this.loop = this.supervise();
  }

  private async supervise(): Promise<void> {
    let started = false;
    while (!this.stopped) {
      if (!started || workerIsRunning(this.runtime) === false) {
        try {
          await this.sidecarReady();
          if (this.stopped) return;
          await this.runtime.start();
          this.log.info(started ? 'workflow worker reconnected to its sidecar' : 'workflow worker started');
          started = true;
        } catch (error) {
          this.log.warn({ err: error }, 'workflow worker could not start yet; trying again');
        }
      }
      await sleep(this.checkEveryMs);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    if (workerIsRunning(this.runtime)) await this.runtime.stop().catch(() => undefined);
  }
}
