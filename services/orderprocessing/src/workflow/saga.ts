// Compensations of the order saga, after the pattern of Temporal's saga sample: each step declares how
// to undo itself right before it runs (a step that fails halfway may still have had an effect, and every
// undo is idempotent), and on failure the undos run newest first.
import type { Task, WorkflowContext } from '@dapr/dapr';
import type { ActivityInput, ActivityName } from './activities.ts';
import { callWithRetry, type RetryPolicy } from './retry.ts';

export class Saga {
  private readonly compensations: { activity: ActivityName; input: unknown }[] = [];

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly policy: RetryPolicy,
  ) {}

  /** Registers the undo of the step about to run. */
  addCompensation<K extends ActivityName>(activity: K, input: ActivityInput<K>): void {
    this.compensations.unshift({ activity, input });
  }

  /**
   * Runs every registered undo, newest first. One that still fails after its retries does not stop the
   * others; the names of those that failed are returned for the order's failure message.
   */
  async *compensate(): AsyncGenerator<Task<unknown>, string[], unknown> {
    const failed: string[] = [];
    for (const { activity, input } of this.compensations.splice(0)) {
      try {
        yield* callWithRetry(this.ctx, activity, input, this.policy);
      } catch {
        failed.push(activity);
      }
    }
    return failed;
  }
}
