// Retries with exponential backoff and jitter, in one place. `callActivity` has no retry policy in this
// SDK, so the workflow retries itself: each wait is a durable timer (a crash during the wait loses
// nothing) and the jitter is derived from the instance id, so a replay computes the same delays.

import type { Task, WorkflowContext } from '@dapr/dapr';
import { z } from 'zod';
import { DaprError } from '#shared/dapr.ts';

/** A failure worth another try: the network, a timeout, an overloaded or restarting service. */
export class TransientError extends Error {}
/** A failure that another try will not fix: a bug, or an answer the caller must act on. */
export class PermanentError extends Error {}

export const RetryPolicy = z.object({
  maxAttempts: z.number().int().min(1),
  initialDelayMs: z.number().int().min(0),
  maxDelayMs: z.number().int().min(0),
  /** Give up when the next try would start later than this after the first. */
  maxElapsedMs: z.number().int().min(0),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 500,
  maxDelayMs: 5_000,
  maxElapsedMs: 15_000,
};

/**
 * Turns what a service call threw into TransientError or PermanentError, so the workflow knows whether
 * to try again. 5xx, 429 and 408 answers and network failures are transient; other 4xx are not.
 */
export function classify(error: unknown): Error {
  if (error instanceof DaprError) {
    const transient = error.status >= 500 || error.status === 429 || error.status === 408;
    return new (transient ? TransientError : PermanentError)(`${error.message} (HTTP ${error.status})`);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new TransientError(message); // connection refused or reset, no answer within our timeout
}

/** FNV-1a: a small deterministic hash, so jitter is the same on every replay. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The wait before attempt `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  const fraction = hash(`${seed}:${attempt}`) / 0xffffffff;
  return Math.round(exponential / 2 + (exponential / 2) * fraction);
}

function isTransient(error: unknown): boolean {
  const details = (error as { details?: { errorType?: string } }).details;
  return details?.errorType === TransientError.name;
}

/**
 * Calls an activity, and again after a durable backoff while it fails transiently, within the policy's
 * bounds. Use with `yield*` inside a workflow.
 */
export async function* callWithRetry<T>(
  ctx: WorkflowContext,
  activity: string,
  input: unknown,
  policy: RetryPolicy,
): AsyncGenerator<Task<unknown>, T, unknown> {
  const started = ctx.getCurrentUtcDateTime().getTime();
  for (let attempt = 1; ; attempt++) {
    try {
      return (yield ctx.callActivity(activity, input as never)) as T;
    } catch (error) {
      const delay = backoffDelay(policy, attempt, `${ctx.getWorkflowInstanceId()}:${activity}`);
      const now = ctx.getCurrentUtcDateTime().getTime();
      const giveUp =
        !isTransient(error) || attempt >= policy.maxAttempts || now + delay - started > policy.maxElapsedMs;
      if (giveUp) throw error;
      yield ctx.createTimer(new Date(now + delay));
    }
  }
}
