import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import {
  backoffDelay,
  callWithRetry,
  classify,
  DEFAULT_RETRY_POLICY,
  PermanentError,
  type RetryPolicy,
  TransientError,
} from '../src/workflow/retry.ts';
import { FakeWorkflowContext, fails, succeeds } from './fakeWorkflowContext.ts';

const daprError = (status: number) => new DaprError(`inventory reserve: status ${status}`, status, undefined);

describe('classify', () => {
  it.each([503, 500, 502, 429, 408])('takes HTTP %i for transient', (status) => {
    const classified = classify(daprError(status));
    expect(classified).toBeInstanceOf(TransientError);
    expect(classified).not.toBeInstanceOf(PermanentError);
    expect(classified.message).toContain(`(HTTP ${status})`);
    expect(classified.message).toContain('inventory reserve');
  });

  it.each([400, 404, 409, 422])('takes HTTP %i for permanent', (status) => {
    const classified = classify(daprError(status));
    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified).not.toBeInstanceOf(TransientError);
    expect(classified.message).toContain(`(HTTP ${status})`);
  });

  it('takes a network failure for transient, keeping what it was', () => {
    const classified = classify(new TypeError('fetch failed'));
    expect(classified).toBeInstanceOf(TransientError);
    expect(classified.message).toBe('TypeError: fetch failed');
    expect(classify(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBeInstanceOf(
      TransientError,
    );
    expect(classify('connection refused').message).toBe('connection refused');
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 60_000 };

  it('gives the same delay for the same seed and attempt (a replay waits as long)', () => {
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(backoffDelay(policy, attempt, 'order_riley_aaaaa:reserveInventory')).toBe(
        backoffDelay(policy, attempt, 'order_riley_aaaaa:reserveInventory'),
      );
    }
  });

  it('spreads different seeds out', () => {
    const delays = new Set(Array.from({ length: 20 }, (_, i) => backoffDelay(policy, 3, `order_riley_${i}:charge`)));
    expect(delays.size).toBeGreaterThan(5);
  });

  it('stays within [exponential/2, exponential], capped by maxDelayMs', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(policy, attempt, `seed-${i}`);
        expect(delay).toBeGreaterThanOrEqual(exponential / 2);
        expect(delay).toBeLessThanOrEqual(exponential);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
    // 100 * 2^9 would be 51200: the cap holds.
    expect(backoffDelay(policy, 10, 'x')).toBeLessThanOrEqual(1_000);
    expect(backoffDelay(policy, 10, 'x')).toBeGreaterThanOrEqual(500);
  });

  it('grows with the attempt under the default policy', () => {
    const first = backoffDelay(DEFAULT_RETRY_POLICY, 1, 'seed');
    const third = backoffDelay(DEFAULT_RETRY_POLICY, 3, 'seed');
    expect(first).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.initialDelayMs);
    expect(third).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.initialDelayMs * 2);
  });

  it('waits nothing with a zero initial delay', () => {
    expect(backoffDelay({ ...policy, initialDelayMs: 0 }, 4, 'seed')).toBe(0);
  });
});

describe('callWithRetry', () => {
  const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 3_000, maxElapsedMs: 60_000 };
  const request = { orderId: 'order_riley_aaaaa', items: [{ productId: 'widget', quantity: 2 }] };
  const unavailable = (status = 503, takesMs = 0) => fails(classify(daprError(status)), takesMs);
  const retry = (fake: FakeWorkflowContext, retryPolicy = policy) =>
    fake.run(callWithRetry(fake.context, 'reserveInventory', request, retryPolicy));
  /** How long each timer waits, from the moment the workflow set it. */
  const waits = (fake: FakeWorkflowContext) =>
    fake.scheduled.flatMap((s) => (s.kind === 'timer' ? [s.fireAt.getTime() - s.at.getTime()] : []));
  /** When each try started, in ms after the first. */
  const starts = (fake: FakeWorkflowContext) => {
    const tries = fake.scheduled.filter((s) => s.kind === 'activity').map((s) => s.at.getTime());
    return tries.map((at) => at - (tries[0] ?? at));
  };

  it('returns the result of a first try that succeeds, with no wait', async () => {
    const fake = new FakeWorkflowContext().script('reserveInventory', succeeds({ reserved: true }));
    expect(await retry(fake)).toEqual({ reserved: true });
    expect(fake.activities).toEqual([{ name: 'reserveInventory', input: request }]);
    expect(fake.timers).toEqual([]);
  });

  it('retries transient failures (5xx, 429, network) and returns the result that follows', async () => {
    const fake = new FakeWorkflowContext().script(
      'reserveInventory',
      unavailable(503),
      fails(classify(new TypeError('fetch failed'))),
      unavailable(429),
      succeeds({ reserved: true }),
    );
    expect(await retry(fake)).toEqual({ reserved: true });
    expect(fake.activities).toEqual(Array(4).fill({ name: 'reserveInventory', input: request }));
    expect(fake.scheduled.map((s) => s.kind)).toEqual([
      'activity',
      'timer',
      'activity',
      'timer',
      'activity',
      'timer',
      'activity',
    ]);
  });

  it('waits on durable timers as long as backoffDelay says: doubling, capped, jittered by the instance id', async () => {
    const fake = new FakeWorkflowContext('order_riley_aaaaa').script(
      'reserveInventory',
      ...Array.from({ length: 4 }, () => unavailable()),
      succeeds({ reserved: true }),
    );
    await retry(fake);
    const expected = [1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, 'order_riley_aaaaa:reserveInventory'));
    expect(waits(fake)).toEqual(expected);
    const [first = 0, second = 0, third = 0, fourth = 0] = waits(fake);
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1_000);
    expect(second).toBeGreaterThanOrEqual(1_000);
    expect(second).toBeLessThanOrEqual(2_000);
    // 4000 and 8000 without the cap of 3000.
    for (const capped of [third, fourth]) {
      expect(capped).toBeGreaterThanOrEqual(1_500);
      expect(capped).toBeLessThanOrEqual(3_000);
    }
    // Each try starts when the timer before it fires.
    expect(starts(fake)).toEqual([0, first, first + second, first + second + third, first + second + third + fourth]);
  });

  it('waits the same on a replay of the same order, and differently for another order', async () => {
    const waitsFor = async (instanceId: string) => {
      const fake = new FakeWorkflowContext(instanceId).script(
        'reserveInventory',
        ...Array.from({ length: 3 }, () => unavailable()),
        succeeds({ reserved: true }),
      );
      await retry(fake);
      return waits(fake);
    };
    const first = await waitsFor('order_riley_aaaaa');
    expect(first).toHaveLength(3);
    expect(await waitsFor('order_riley_aaaaa')).toEqual(first);
    expect(await waitsFor('order_sam_bbbbb')).not.toEqual(first);
  });

  it('gives up after maxAttempts, failing with the last failure', async () => {
    const fake = new FakeWorkflowContext().script(
      'reserveInventory',
      unavailable(503),
      unavailable(500),
      unavailable(502),
      succeeds({ reserved: true }),
    );
    await expect(retry(fake, { ...policy, maxAttempts: 3 })).rejects.toMatchObject({
      details: { errorType: 'TransientError', message: 'inventory reserve: status 502 (HTTP 502)' },
    });
    expect(fake.activities).toHaveLength(3);
    expect(fake.timers).toHaveLength(2);
  });

  it('gives up when the next try would start later than maxElapsedMs after the first', async () => {
    const slow = { maxAttempts: 10, initialDelayMs: 1_000, maxDelayMs: 1_000, maxElapsedMs: 10_000 };
    // Each try takes 3s and each wait 0.5-1s: tries start at 0, 3.5-4s and 7-8s; a fourth would start after 10s.
    const fake = new FakeWorkflowContext().script(
      'reserveInventory',
      ...Array.from({ length: 10 }, () => unavailable(503, 3_000)),
    );
    const began = fake.now.getTime();
    await expect(retry(fake, slow)).rejects.toMatchObject({ details: { errorType: 'TransientError' } });
    expect(fake.activities).toHaveLength(3);
    expect(Math.max(...starts(fake))).toBeLessThanOrEqual(10_000);
    const fourthTry = fake.now.getTime() + backoffDelay(slow, 3, 'order_riley_aaaaa:reserveInventory');
    expect(fourthTry - began).toBeGreaterThan(10_000);
  });

  it('retries when the next try starts exactly maxElapsedMs after the first, not a millisecond later', async () => {
    const firstWait = backoffDelay(policy, 1, 'order_riley_aaaaa:reserveInventory');
    const triesWithin = async (maxElapsedMs: number) => {
      const fake = new FakeWorkflowContext().script(
        'reserveInventory',
        unavailable(503, 1_000),
        unavailable(503, 1_000),
      );
      await expect(retry(fake, { ...policy, maxElapsedMs })).rejects.toMatchObject({
        details: { errorType: 'TransientError' },
      });
      return fake.activities.length;
    };
    expect(await triesWithin(1_000 + firstWait)).toBe(2);
    expect(await triesWithin(1_000 + firstWait - 1)).toBe(1);
  });

  it.each([
    ['a business 4xx', classify(daprError(409)), 'PermanentError'],
    ['an error nobody classified', new RangeError('bad input'), 'RangeError'],
  ])('does not retry %s', async (_, error, errorType) => {
    const fake = new FakeWorkflowContext().script('reserveInventory', fails(error), succeeds({ reserved: true }));
    await expect(retry(fake)).rejects.toMatchObject({ details: { errorType, message: error.message } });
    expect(fake.activities).toHaveLength(1);
    expect(fake.timers).toEqual([]);
  });
});
