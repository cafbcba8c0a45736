// The events that orders recorded on every workflow version published (test/replay/fixtures: the inputs
// of their steps), read with today's lifecycle and index: what an order in flight, or stored before the
// events carried their data as fields, hands to the readers must still say where the order is.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activityEvent } from '#shared/daprSdk.ts';
import { lifecycleOf } from '#shared/lifecycle.ts';
import { Notification } from '#shared/messages.ts';
import { recordOf } from '../../notifications/src/orderIndex/model.ts';
import type { PendingNotification } from '../src/workflow/activities.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'replay', 'fixtures');

interface Fixture {
  path: string;
  version: number;
  events: { type: string; base64: string }[];
}

/**
 * The notifications a recorded order's steps published: notify's input, a step's `before`, and its
 * `after` once it completed (a reserve: once it reserved).
 */
function notificationsOf(fixture: Fixture): Notification[] {
  const scheduled = new Map<number, { name: string; input: Record<string, unknown> }>();
  const published: PendingNotification[] = [];
  for (const { base64 } of fixture.events) {
    const activity = activityEvent(Buffer.from(base64, 'base64'));
    if (!activity) continue;
    if (activity.scheduled) {
      const input = JSON.parse(activity.input) as Record<string, unknown>;
      const unwrapped = (input.traceparent === undefined ? input : input.input) as Record<string, unknown>;
      scheduled.set(activity.id, { name: activity.name, input: unwrapped });
      if (activity.name === 'notify') published.push(unwrapped as unknown as PendingNotification);
      else if (unwrapped.before) published.push(unwrapped.before as PendingNotification);
      continue;
    }
    const step = scheduled.get(activity.id);
    const result = JSON.parse(activity.result || 'null') as { reserved?: boolean } | null;
    if (step?.input.after && result?.reserved !== false)
      published.push(...([step.input.after].flat() as PendingNotification[]));
  }
  const unique = new Map(published.map((news) => [news.id, news]));
  return [...unique.values()].map((news, n) =>
    Notification.parse({ ...news, time: new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString() }),
  );
}

const fixtures: Fixture[] = readdirSync(FIXTURES).flatMap((dir) =>
  readdirSync(join(FIXTURES, dir)).map(
    (file) => JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8')) as Fixture,
  ),
);

/** How each recorded path ends, as the page (state, reason) and GET /orders (status, last step) say it. */
const ENDS: Record<string, { status: string; state: string; reason?: string; latest: string }> = {
  auto: { status: 'COMPLETED', state: 'shipped', latest: 'shipped' },
  approved: { status: 'COMPLETED', state: 'shipped', latest: 'shipped' },
  retried_step: { status: 'COMPLETED', state: 'shipped', latest: 'shipped' },
  lost_shipment: { status: 'COMPLETED', state: 'shipped', latest: 'shipped' },
  rejected: { status: 'COMPLETED', state: 'cancelled', reason: 'rejected', latest: 'rejected' },
  cancelled: { status: 'COMPLETED', state: 'cancelled', reason: 'cancelled by an approver', latest: 'cancelled' },
  timed_out: { status: 'COMPLETED', state: 'cancelled', reason: 'approval timed out', latest: 'approval_timed_out' },
  out_of_stock: { status: 'COMPLETED', state: 'cancelled', reason: 'out of stock', latest: 'out_of_stock' },
  shipping_failure: { status: 'FAILED', state: 'failed', reason: 'shipping failed', latest: 'compensated' },
};

describe('the events of recorded orders (published before their data were fields)', () => {
  it.each(
    fixtures.map((fixture) => [`v${fixture.version} ${fixture.path}`, fixture] as const),
  )('%s: validate, and end as the order did on the page and in the index', (_name, fixture) => {
    const events = notificationsOf(fixture);
    expect(events[0]?.kind).toBe('received');
    expect(events.every((event) => event.customer)).toBe(true);
    const expected = ENDS[fixture.path];
    const lifecycle = lifecycleOf(events);
    expect(lifecycle).toEqual(expected);

    const record = recordOf(events[0]?.orderId ?? '', events);
    expect(record).toMatchObject({ status: expected?.status, lastStep: expected?.latest });
    const waiting = events.find((event) => event.kind === 'waiting_for_approval');
    if (waiting) expect(record?.deadline).toBe(waiting.deadline);
  });
});
