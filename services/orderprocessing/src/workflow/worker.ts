// Keeps the workflow worker connected to its sidecar. The SDK's worker (@dapr/dapr 3.18) reconnects
// after a dropped stream only if its first stream is not the one that drops: when the sidecar restarts
// under a worker that had been connected since start-up, the worker stops for good ("Worker failed"),
// and the app would never run a workflow step again. This supervisor notices and starts it again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowRuntime } from '@dapr/dapr';
import type { FastifyBaseLogger } from 'fastify';
import { workerIsRunning } from '#shared/daprSdk.ts';

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
