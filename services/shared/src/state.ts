// Optimistic read-modify-write of one state key: read it with its ETag, compute the next value, write it
// back only if nobody else wrote in between (or, for a key that did not exist, only if nobody created it
// in between), and try again when someone did. Every write of the services goes through here.
import { setTimeout as sleep } from 'node:timers/promises';
import { type DaprHttpClient, EtagMismatch } from './dapr.ts';

export interface Change<T, R> {
  /** The value to store; leave it out to write nothing. */
  next?: T;
  /** What the update returns to its caller. */
  result: R;
}

export type StateClient = Pick<DaprHttpClient, 'getState' | 'getStates' | 'saveState'>;

/**
 * Creates `key` with `value` in one write if it does not exist yet: true when this call created it, false
 * when the key was there already (nothing is written then). Any other failure throws.
 */
export async function createIfAbsent(
  dapr: Pick<StateClient, 'saveState'>,
  key: string,
  value: unknown,
): Promise<boolean> {
  try {
    await dapr.saveState([{ key, value }]);
    return true;
  } catch (error) {
    if (error instanceof EtagMismatch) return false;
    throw error;
  }
}

export async function updateState<T, R>(
  dapr: StateClient,
  key: string,
  change: (current: T | undefined) => Change<T, R>,
  maxAttempts = 50,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const { value, etag } = await dapr.getState<T>(key);
    const { next, result } = change(value);
    if (next === undefined) return result;
    try {
      await dapr.saveState([{ key, value: next, etag }]);
      return result;
    } catch (error) {
      if (!(error instanceof EtagMismatch) || attempt >= maxAttempts) throw error;
      // Spread the contenders out a little so that they do not collide again in lock-step.
      await sleep(Math.random() * Math.min(50, 2 * attempt));
    }
  }
}
