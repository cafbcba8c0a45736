// The saga's compensations as the workflow runs them on a fake workflow context: newest first, each
// retried, one that fails for good not stopping the others, and none run twice.
import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import { classify, type RetryPolicy } from '../src/workflow/retry.ts';
import { Saga } from '../src/workflow/saga.ts';
import { FakeWorkflowContext, fails, succeeds } from './fakeWorkflowContext.ts';

const policy: RetryPolicy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 60_000 };
const orderId = 'order_riley_aaaaa';
const unavailable = (service: string) => fails(classify(new DaprError(`${service}: status 503`, 503, undefined)));
const released = succeeds({ orderId, released: true });
const refunded = succeeds({ orderId, entry: null });
const notified = succeeds();

/**
 * A saga that registered the order's two undos, stock then payment, and a third (a notification), so that
 * newest first is told apart from a mere swap.
 */
function sagaOf(fake: FakeWorkflowContext): Saga {
  const saga = new Saga(fake.context, policy);
  saga.addCompensation('releaseInventory', { orderId });
  saga.addCompensation('refundPayment', { orderId });
  saga.addCompensation('notify', { id: `${orderId}:cancelled`, orderId, kind: 'cancelled', text: 'Order undone' });
  return saga;
}

describe('Saga.compensate', () => {
  it('runs the compensations newest first, each with its input', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', released)
      .script('refundPayment', refunded)
      .script('notify', notified);
    expect(await fake.run(sagaOf(fake).compensate())).toEqual([]);
    expect(fake.activities).toEqual([
      { name: 'notify', input: expect.objectContaining({ kind: 'cancelled', orderId }) },
      { name: 'refundPayment', input: { orderId } },
      { name: 'releaseInventory', input: { orderId } },
    ]);
  });

  it('retries a compensation that fails transiently before moving on', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', released)
      .script('refundPayment', unavailable('payments refund'), unavailable('payments refund'), refunded)
      .script('notify', notified);
    expect(await fake.run(sagaOf(fake).compensate())).toEqual([]);
    expect(fake.activities.map((a) => a.name)).toEqual([
      'notify',
      'refundPayment',
      'refundPayment',
      'refundPayment',
      'releaseInventory',
    ]);
    expect(fake.timers).toHaveLength(2);
  });

  it('keeps going past a compensation that still fails after its retries, and names it', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', released)
      .script('refundPayment', ...Array.from({ length: 3 }, () => unavailable('payments refund')))
      .script('notify', notified);
    expect(await fake.run(sagaOf(fake).compensate())).toEqual(['refundPayment']);
    expect(fake.activities.map((a) => a.name)).toEqual([
      'notify',
      'refundPayment',
      'refundPayment',
      'refundPayment',
      'releaseInventory',
    ]);
  });

  it('names every compensation that failed, in the order they ran', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', fails(classify(new DaprError('inventory release: status 400', 400, undefined))))
      .script('refundPayment', ...Array.from({ length: 3 }, () => unavailable('payments refund')))
      .script('notify', fails(classify(new TypeError('fetch failed'))), notified);
    expect(await fake.run(sagaOf(fake).compensate())).toEqual(['refundPayment', 'releaseInventory']);
    // The permanent failure is tried once, the transient ones until one succeeds or the policy runs out.
    expect(fake.activities.map((a) => a.name)).toEqual([
      'notify',
      'notify',
      'refundPayment',
      'refundPayment',
      'refundPayment',
      'releaseInventory',
    ]);
  });

  it('runs each compensation once when compensate is called twice', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', released, released)
      .script('refundPayment', refunded, refunded)
      .script('notify', notified, notified);
    const saga = sagaOf(fake);
    expect(await fake.run(saga.compensate())).toEqual([]);
    expect(await fake.run(saga.compensate())).toEqual([]);
    expect(fake.activities.map((a) => a.name)).toEqual(['notify', 'refundPayment', 'releaseInventory']);
  });

  it('does not run a failed compensation again on a second call', async () => {
    const fake = new FakeWorkflowContext()
      .script('releaseInventory', released, released)
      .script('refundPayment', ...Array.from({ length: 6 }, () => unavailable('payments refund')))
      .script('notify', notified, notified);
    const saga = sagaOf(fake);
    expect(await fake.run(saga.compensate())).toEqual(['refundPayment']);
    expect(await fake.run(saga.compensate())).toEqual([]);
    expect(fake.activities).toHaveLength(5);
  });
});
