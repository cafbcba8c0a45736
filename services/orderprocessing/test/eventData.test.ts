// The data an order's events carry as fields (customer, items, total, short, failed step, reason, undos),
// as the workflow builds them on a fake workflow context: the readers take these, never the texts. The
// approval's fields (deadline, approver) are checked on the real stack (test/integration/walkthrough.ts).
import type { WorkflowContext } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import type { Notification } from '#shared/messages.ts';
import type { OrderInput } from '../src/workflow/orderWorkflow.ts';
import { classify } from '../src/workflow/retry.ts';
import { versionNumbered, workflowOf } from '../src/workflow/versions.ts';
import { FakeWorkflowContext, fails, succeeds } from './fakeWorkflowContext.ts';

const orderId = 'order_riley_aaaaa';
const input: OrderInput = {
  orderId,
  order: { customer: 'Riley', items: ['milk', 'bread'], total: 12.5 },
  approvalTimeoutMs: 60_000,
  retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 60_000 },
};
const unavailable = (what: string) => fails(classify(new DaprError(`${what}: status 503`, 503, undefined)));
const reserved = succeeds({ orderId, reserved: true, short: [] });

type Published = Omit<Notification, 'time'>;

/** Every event the run's steps carried, by kind (a step's `before` and `after`, notify's input). */
async function eventsOf(fake: FakeWorkflowContext, version = 3): Promise<Map<string, Published>> {
  await fake.run(workflowOf(versionNumbered(version))(fake.context as WorkflowContext, input)).catch(() => undefined);
  const events = fake.activities.flatMap(({ name, input: given }) => {
    const step = given as { before?: Published; after?: Published | Published[] };
    return name === 'notify' ? [given as Published] : [step.before ?? [], step.after ?? []].flat();
  });
  return new Map(events.map((event) => [event.kind, event]));
}

describe('the events of an order carry its data as fields', () => {
  it('received: customer, items and total; paid: the total; shipped: the result', async () => {
    const fake = new FakeWorkflowContext()
      .script('reserveInventory', reserved)
      .script('chargePayment', succeeds({ orderId, entry: null }))
      .script('shipOrder', succeeds({ orderId, shipmentId: 's', shippedAt: '2026-11-21T10:00:00.000Z' }));
    const events = await eventsOf(fake);
    expect(events.get('received')).toMatchObject({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });
    expect(events.get('paid')).toMatchObject({ customer: 'Riley', total: 12.5 });
    expect(events.get('shipped')?.result).toEqual({ success: true, message: 'Order processed successfully' });
    for (const event of events.values()) expect(event.customer).toBe('Riley');
  });

  it('out_of_stock: the items there were too few of', async () => {
    const fake = new FakeWorkflowContext()
      .script('reserveInventory', succeeds({ orderId, reserved: false, short: ['bread'] }))
      .script('notify', succeeds());
    expect((await eventsOf(fake)).get('out_of_stock')).toMatchObject({ short: ['bread'], result: { success: false } });
  });

  it('a failed payment: the failed step and its cause, on its event and on compensated', async () => {
    const fake = new FakeWorkflowContext()
      .script('reserveInventory', reserved)
      .script('chargePayment', unavailable('payments charge'), unavailable('payments charge'))
      .script('refundPayment', succeeds({ orderId, entry: null }))
      .script('releaseInventory', succeeds({ orderId, released: true }))
      .script('notify', succeeds(), succeeds());
    const events = await eventsOf(fake);
    const failed = { failedStep: 'payment', reason: 'payments charge: status 503 (HTTP 503)' };
    expect(events.get('payment_failed')).toMatchObject(failed);
    expect(events.get('compensated')).toMatchObject({ ...failed, undoFailed: [] });
  });

  it('a failed ship whose cancel could not be asked: the undo that failed', async () => {
    const fake = new FakeWorkflowContext()
      .script('reserveInventory', reserved)
      .script('chargePayment', succeeds({ orderId, entry: null }))
      .script('shipOrder', unavailable('shipping ship'), unavailable('shipping ship'))
      .script('cancelShipment', unavailable('shipping cancel'), unavailable('shipping cancel'))
      .script('refundPayment', succeeds({ orderId, entry: null }))
      .script('releaseInventory', succeeds({ orderId, released: true }))
      .script('notify', succeeds(), succeeds());
    const events = await eventsOf(fake);
    expect(events.get('shipping_failed')).toMatchObject({ failedStep: 'shipping' });
    expect(events.get('compensated')).toMatchObject({ failedStep: 'shipping', undoFailed: ['cancelShipment'] });
  });

  it('a reserve that failed for good (version 2 on): compensated names the reservation', async () => {
    const fake = new FakeWorkflowContext()
      .script('reserveInventory', unavailable('inventory reserve'), unavailable('inventory reserve'))
      .script('releaseInventory', succeeds({ orderId, released: true }))
      .script('notify', succeeds());
    const compensated = (await eventsOf(fake, 2)).get('compensated');
    expect(compensated).toMatchObject({
      failedStep: 'reservation',
      reason: 'inventory reserve: status 503 (HTTP 503)',
    });
  });
});
