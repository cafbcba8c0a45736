import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import {
  backoffDelay,
  classify,
  DEFAULT_RETRY_POLICY,
  PermanentError,
  type RetryPolicy,
  TransientError,
} from '../src/workflow/retry.ts';

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
