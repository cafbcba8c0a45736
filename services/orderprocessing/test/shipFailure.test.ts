// A ship that fails for good, on a fake workflow context: from version 3 the workflow asks shipping to
// cancel the shipment before it undoes anything. A shipment whose answer was lost keeps the order (it
// completes, charged, with its stock sold); a cancelled one is undone as before; when shipping cannot be
// asked, the order is undone and the compensated notification names what could not be cancelled.
import type { WorkflowContext } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import type { OrderInput } from '../src/workflow/orderWorkflow.ts';
import { classify } from '../src/workflow/retry.ts';
import { versionNumbered, workflowOf } from '../src/workflow/versions.ts';
import { FakeWorkflowContext, fails, succeeds } from './fakeWorkflowContext.ts';

const orderId = 'order_riley_aaaaa';
const input: OrderInput = {
  orderId,
  order: { customer: 'Riley', items: ['milk'], total: 5 },
  approvalTimeoutMs: 60_000,
  retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 60_000 },
};
const shipment = { orderId, shipmentId: 'ship_1', shippedAt: '2026-11-21T10:00:00.000Z' };
const unavailable = (what: string) => fails(classify(new DaprError(`${what}: status 503`, 503, undefined)));

/** An order whose reserve and charge go through and whose ship is refused twice (the retry policy's all). */
function shipRefused(cancel: ReturnType<typeof succeeds>[]) {
  return new FakeWorkflowContext()
    .script('reserveInventory', succeeds({ orderId, reserved: true, short: [] }))
    .script('chargePayment', succeeds({ orderId, entry: null }))
    .script('shipOrder', unavailable('shipping ship'), unavailable('shipping ship'))
    .script('cancelShipment', ...cancel)
    .script('refundPayment', succeeds({ orderId, entry: null }))
    .script('releaseInventory', succeeds({ orderId, released: true }))
    .script('notify', succeeds(), succeeds(), succeeds());
}

async function run(fake: FakeWorkflowContext, version: number) {
  const workflow = workflowOf(versionNumbered(version));
  const outcome = await fake.run(workflow(fake.context as WorkflowContext, input)).catch((error: Error) => error);
  const notified = fake.activities
    .filter((call) => call.name === 'notify')
    .map((call) => (call.input as { kind: string; text: string }).kind);
  return { outcome, names: fake.activities.map((call) => call.name), notified };
}

describe('a ship that failed for good (version 3)', () => {
  it('keeps the order when the goods went out after all: no refund, no release, it completes', async () => {
    const fake = shipRefused([succeeds({ orderId, shipment })]);
    const { outcome, names, notified } = await run(fake, 3);
    expect(outcome).toEqual({ id: orderId, success: true, message: 'Order processed successfully' });
    expect(names).toEqual(['reserveInventory', 'chargePayment', 'shipOrder', 'shipOrder', 'cancelShipment', 'notify']);
    expect(notified).toEqual(['shipped']);
  });

  it('undoes the order once the shipment is cancelled', async () => {
    const fake = shipRefused([succeeds({ orderId, shipment: null })]);
    const { outcome, names, notified } = await run(fake, 3);
    expect((outcome as Error).message).toBe('shipping failed: shipping ship: status 503 (HTTP 503)');
    expect(names.slice(4)).toEqual(['cancelShipment', 'notify', 'refundPayment', 'releaseInventory', 'notify']);
    expect(notified).toEqual(['shipping_failed', 'compensated']);
  });

  it('undoes the order and names the cancel when shipping cannot be asked', async () => {
    const fake = shipRefused([unavailable('shipping cancel'), unavailable('shipping cancel')]);
    const { outcome, names } = await run(fake, 3);
    expect((outcome as Error).message).toBe('shipping failed: shipping ship: status 503 (HTTP 503)');
    expect(names.slice(4)).toEqual([
      'cancelShipment',
      'cancelShipment',
      'notify',
      'refundPayment',
      'releaseInventory',
      'notify',
    ]);
    const compensated = fake.activities.at(-1)?.input as { text: string };
    expect(compensated.text).toBe("Compensation incomplete: cancelShipment failed; see the order's history.");
  });

  it('is not asked on version 2, whose recorded orders replay without it', async () => {
    const fake = shipRefused([]);
    const { names } = await run(fake, 2);
    expect(names).not.toContain('cancelShipment');
    expect(names.slice(4)).toEqual(['notify', 'refundPayment', 'releaseInventory', 'notify']);
  });
});
