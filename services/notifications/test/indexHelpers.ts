// Notifications as the workflow's steps publish them, for the index and watchdog tests.
import type { Notification, NotificationKind } from '#shared/messages.ts';

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
