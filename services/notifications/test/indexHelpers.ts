// Notifications as the workflow's steps publish them, and the projection they feed, for the index and
// watchdog tests.
import type { Notification, NotificationKind } from '#shared/messages.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { OrderIndex, type OrderIndexOptions } from '../src/orderIndex/orderIndex.ts';
import { ReadModel } from '../src/readModel.ts';

export const T0 = Date.parse('2026-11-21T10:00:00.000Z');
export const at = (ms: number) => new Date(T0 + ms).toISOString();

export function step(
  orderId: string,
  kind: NotificationKind,
  ms: number,
  extra: Partial<Notification> = {},
): Notification {
  return {
    id: `${orderId}:${kind}`,
    orderId,
    time: at(ms),
    kind,
    text: `${kind} of ${orderId}`,
    customer: orderId.split('_')[1] ?? 'someone',
    ...extra,
  };
}

/** The steps of an order that runs through: received at `start`, one step every 100 ms after. */
export function happyPath(orderId: string, start = 0): Notification[] {
  return (['received', 'stock_reserved', 'paid', 'shipped'] as const).map((kind, n) =>
    step(orderId, kind, start + n * 100),
  );
}

/** The projection's two parts over one store, fed as the subscription feeds them: timeline, then index. */
export class Projection {
  readonly model: ReadModel;
  readonly index: OrderIndex;

  constructor(
    readonly store = new FakeState(),
    options: OrderIndexOptions = {},
  ) {
    this.model = new ReadModel(store);
    this.index = new OrderIndex(store, options);
  }

  async take(...notifications: Notification[]): Promise<void> {
    for (const notification of notifications) {
      const { timeline } = await this.model.record(notification);
      await this.index.take(notification, timeline);
    }
  }
}
