// A workflow context for unit tests that drives a workflow generator the way the Dapr SDK does: each
// yielded task is answered in turn (an activity with its scripted result or failure, a timer at once, the
// clock moved to its fire time), so retries, backoff and compensations are checked without an engine.
// A failure arrives as the SDK's TaskFailedError: the activity's error class name is `details.errorType`.
import type { Task, WorkflowContext } from '@dapr/dapr';

/** What one call of an activity does: succeed with a result or throw, after taking `takesMs` of workflow time. */
export type Outcome = { result: unknown; takesMs: number } | { error: Error; takesMs: number };

export const succeeds = (result?: unknown, takesMs = 0): Outcome => ({ result, takesMs });
/** The activity throws `error`; the workflow sees it wrapped, as the SDK wraps it. */
export const fails = (error: Error, takesMs = 0): Outcome => ({ error, takesMs });

/** What the SDK rejects a failed activity's task with (durabletask's TaskFailedError and FailureDetails). */
export class TaskFailedError extends Error {
  constructor(
    message: string,
    readonly details: { message: string; errorType: string; stackTrace?: string },
  ) {
    super(message);
  }
}

export type Scheduled =
  | { kind: 'activity'; name: string; input: unknown; at: Date }
  | { kind: 'timer'; fireAt: Date; at: Date };

export class FakeWorkflowContext {
  /** The workflow's clock: moved by timers and by the time scripted activities take. */
  now = new Date('2026-11-21T10:00:00Z');
  /** Every activity call and timer, in the order the workflow scheduled them, with the clock at that moment. */
  readonly scheduled: Scheduled[] = [];
  /** The context to hand to the code under test. */
  readonly context = this as unknown as WorkflowContext;

  private readonly outcomes = new Map<string, Outcome[]>();
  /** The tasks handed out, each with its number in `scheduled` (the SDK's sequence number). */
  private readonly tasks = new Map<object, { id: number; entry: Scheduled }>();

  constructor(private readonly instanceId = 'order_riley_aaaaa') {}

  /** Queues what the next calls of `activity` do, one outcome per call. A call with none left fails the run. */
  script(activity: string, ...outcomes: Outcome[]): this {
    this.outcomes.set(activity, [...(this.outcomes.get(activity) ?? []), ...outcomes]);
    return this;
  }

  get activities(): { name: string; input: unknown }[] {
    return this.scheduled.flatMap((s) => (s.kind === 'activity' ? [{ name: s.name, input: s.input }] : []));
  }

  get timers(): Date[] {
    return this.scheduled.flatMap((s) => (s.kind === 'timer' ? [s.fireAt] : []));
  }

  getWorkflowInstanceId = () => this.instanceId;
  getCurrentUtcDateTime = () => this.now;
  isReplaying = () => false;

  callActivity(activity: unknown, input?: unknown): Task<unknown> {
    const name = typeof activity === 'string' ? activity : (activity as { name: string }).name;
    return this.schedule({ kind: 'activity', name, input, at: this.now });
  }

  /** As the SDK: a Date is the fire time, a number is seconds from now. */
  createTimer(fireAt: Date | number): Task<unknown> {
    const at = fireAt instanceof Date ? fireAt : new Date(this.now.getTime() + fireAt * 1000);
    return this.schedule({ kind: 'timer', fireAt: at, at: this.now });
  }

  /**
   * Runs a workflow generator to its end as the SDK does: the result of each task is sent back in, a
   * failure is thrown in. Resolves with what the generator returns, rejects with what escapes it.
   */
  async run<T>(generator: AsyncGenerator<Task<unknown>, T, unknown>): Promise<T> {
    let step = await generator.next();
    while (!step.done) {
      const handed = this.tasks.get(step.value as object);
      if (!handed) throw new Error('the workflow yielded something that is not a task of this context');
      const { id, entry: task } = handed;
      if (task.kind === 'timer') {
        if (task.fireAt > this.now) this.now = task.fireAt;
        step = await generator.next(undefined);
        continue;
      }
      const outcome = this.outcomes.get(task.name)?.shift();
      if (!outcome) throw new Error(`no outcome scripted for ${task.name} (task #${id})`);
      this.now = new Date(this.now.getTime() + outcome.takesMs);
      step =
        'error' in outcome
          ? await generator.throw(this.taskFailed(id, outcome.error))
          : await generator.next(outcome.result);
    }
    return step.value;
  }

  private schedule(entry: Scheduled): Task<unknown> {
    this.scheduled.push(entry);
    const task = {};
    this.tasks.set(task, { id: this.scheduled.length - 1, entry });
    return task as Task<unknown>;
  }

  private taskFailed(id: number, error: Error): TaskFailedError {
    return new TaskFailedError(`${this.instanceId}: Activity task #${id} failed: ${error.message}`, {
      message: error.message,
      errorType: error.constructor.name,
      stackTrace: error.stack,
    });
  }
}
