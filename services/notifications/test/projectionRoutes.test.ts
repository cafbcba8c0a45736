// The order projection's routes as orderprocessing reaches them: its client (SidecarOrderProjection) over
// a sidecar that hands each call to this app as daprd would (JSON content type, the app token), so the
// wire itself is tested: paths, verbs, bodies, schemas. Only a caller with the app token gets in.
import { afterEach, describe, expect, it } from 'vitest';
import { DaprError } from '#shared/dapr.ts';
import { SidecarOrderProjection } from '../../orderprocessing/src/orderProjection.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import { buildApp, loadNotificationsConfig } from '../src/app.ts';
import { bulkRequest, entry, note, ORDER } from './bulk.ts';

const APP_TOKEN = 'notifications-app-token-0123456789';
let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

async function setup() {
  const config = loadNotificationsConfig({ APP_PORT: '3001', LOG_LEVEL: 'silent', APP_API_TOKEN: APP_TOKEN });
  const app = buildApp({ config, store: new FakeState() });
  close = () => app.close();
  const headers = { 'content-type': 'application/json', 'dapr-api-token': APP_TOKEN };
  const sidecar = {
    async invoke<T>(_appId: string, method: string, body?: unknown, options: { httpMethod?: string } = {}) {
      const answer = await app.inject({
        method: (options.httpMethod ?? 'POST') as 'GET' | 'POST',
        url: `/${method}`,
        headers,
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      if (answer.statusCode >= 300) throw new DaprError(`${method}: ${answer.body}`, answer.statusCode, answer.json());
      return (answer.body ? answer.json() : undefined) as T;
    },
  };
  const deliver = async (...notes: ReturnType<typeof note>[]) => {
    const request = bulkRequest(notes.map((each, n) => entry(`e${n}`, each)));
    const answer = await app.inject({ ...request, headers: { ...request.headers, 'dapr-api-token': APP_TOKEN } });
    expect(answer.json().statuses.every((each: { status: string }) => each.status === 'SUCCESS')).toBe(true);
  };
  return { app, projection: new SidecarOrderProjection(sidecar), deliver };
}

describe('the order projection, read through the sidecar', () => {
  it('answers pages, records, the running set and final summaries from the events delivered', async () => {
    const { projection, deliver } = await setup();
    await deliver(note('received', ORDER, 1), note('received', 'order_sam_bbbbb', 2));
    const result = { success: false, message: 'Insufficient inventory for milk' };
    await deliver(note('out_of_stock', 'order_sam_bbbbb', 3, { short: ['milk'], result }));

    const page = await projection.list({ limit: 10 });
    expect(page.orders.map((order) => [order.id, order.status])).toEqual([
      ['order_sam_bbbbb', 'COMPLETED'],
      [ORDER, 'RUNNING'],
    ]);
    expect(await projection.find(ORDER)).toMatchObject({ lastStep: 'received', customer: 'Riley' });
    expect(await projection.find('order_nobody_zzzzz')).toBeUndefined();
    // The ended order leaves the running set with the shard's next write (or a moment later).
    expect((await projection.runningOrders()).map(([id]) => id)).toContain(ORDER);
    expect(await projection.final('order_sam_bbbbb')).toMatchObject({ status: 'COMPLETED', ...result });
    expect(await projection.final(ORDER)).toBeUndefined();
  });

  it('takes what no event says: a purge, an end through Dapr, a repair', async () => {
    const { projection, deliver } = await setup();
    await deliver(note('received', ORDER, 1), note('received', 'order_sam_bbbbb', 2));
    await projection.markPurged('order_sam_bbbbb');
    await projection.markEnded(ORDER, 'TERMINATED', Date.UTC(2026, 0, 1, 13));
    await projection.repairRunning(ORDER);
    expect((await projection.list({ limit: 10 })).orders.map((order) => [order.id, order.status])).toEqual([
      [ORDER, 'TERMINATED'],
    ]);
    expect(await projection.runningOrders()).toEqual([]);
  });

  it('is for the sidecar only: a call without the app token gets 401', async () => {
    const { app } = await setup();
    const answer = await app.inject({ method: 'GET', url: '/projection/running' });
    expect(answer.statusCode).toBe(401);
  });
});
