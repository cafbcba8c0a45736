import type { WorkflowActivityContext } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import type { Notification } from '#shared/messages.ts';
import { createActivities, type PendingNotification, type Sidecar } from '../src/workflow/activities.ts';
import { PermanentError, TransientError } from '../src/workflow/retry.ts';

const context = {} as WorkflowActivityContext;
const news = (kind: Notification['kind']): PendingNotification => ({
  id: `order_a_12345:${kind}`,
  orderId: 'order_a_12345',
  kind,
  text: kind,
  customer: 'A',
});

/** A sidecar whose calls and publishes finish only when the test says so, and which logs what happened. */
function fakeSidecar(answer: unknown) {
  const events: string[] = [];
  const pending: Array<() => void> = [];
  const later = <T>(what: string, value: T) =>
    new Promise<T>((resolve) => {
      events.push(`${what} started`);
      pending.push(() => {
        events.push(`${what} done`);
        resolve(value);
      });
    });
  const sidecar: Sidecar = {
    invoke: (<T>(appId: string, method: string) => later(`${appId}/${method}`, answer as T)) as Sidecar['invoke'],
    publish: (_topic, notification) => later(`publish ${(notification as Notification).kind}`, undefined),
  };
  /** Lets everything started so far finish, and waits for the promise callbacks to run. */
  const settle = async () => {
    for (const done of pending.splice(0)) done();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sidecar, events, settle };
}

describe('a step activity', () => {
  it('calls its service while `before` is published, and publishes `after` once both are done', async () => {
    const { sidecar, events, settle } = fakeSidecar({ reserved: true, short: [] });
    const { reserveInventory } = createActivities({ dapr: sidecar });
    const result = reserveInventory(context, {
      request: { orderId: 'order_a_12345', items: ['milk'] },
      before: news('received'),
      after: news('stock_reserved'),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['publish received started', 'inventory/reserve started']);
    await settle();
    await settle();
    await expect(result).resolves.toEqual({ reserved: true, short: [] });
    expect(events.slice(2)).toEqual([
      'publish received done',
      'inventory/reserve done',
      'publish stock_reserved started',
      'publish stock_reserved done',
    ]);
  });

  it('publishes no `after` when the service says no, and stamps each notification with its time', async () => {
    const published: Notification[] = [];
    const sidecar: Sidecar = {
      invoke: (async () => ({ reserved: false, short: ['milk'] })) as Sidecar['invoke'],
      publish: async (_topic, notification) => {
        published.push(notification as Notification);
      },
    };
    const { reserveInventory } = createActivities({ dapr: sidecar });
    await reserveInventory(context, {
      request: { orderId: 'order_a_12345', items: ['milk'] },
      before: news('received'),
      after: news('stock_reserved'),
    });
    expect(published.map(({ kind }) => kind)).toEqual(['received']);
    expect(Date.parse(published[0]?.time ?? '')).toBeGreaterThan(Date.now() - 5_000);
  });

  it('fails as a retryable step when the call or the publish fails, as a permanent one on a 4xx', async () => {
    const failing = (invokeError: unknown, publishError?: unknown): Sidecar => ({
      invoke: (async () => {
        throw invokeError;
      }) as Sidecar['invoke'],
      publish: async () => {
        if (publishError) throw publishError;
      },
    });
    const charge = (sidecar: Sidecar) =>
      createActivities({ dapr: sidecar }).chargePayment(context, {
        request: { orderId: 'order_a_12345', customer: 'A', amount: 10 },
        before: news('approved'),
      });
    await expect(charge(failing(new DaprError('payments down', 503, {})))).rejects.toBeInstanceOf(TransientError);
    await expect(charge(failing(new DaprError('bad request', 400, {})))).rejects.toBeInstanceOf(PermanentError);
    await expect(
      charge({ ...failing(undefined), invoke: (async () => ({ ok: true })) as Sidecar['invoke'] }),
    ).resolves.toEqual({ ok: true });
    await expect(
      charge({ ...failing(undefined, new Error('pubsub down')), invoke: (async () => ({})) as Sidecar['invoke'] }),
    ).rejects.toBeInstanceOf(TransientError);
  });
});
