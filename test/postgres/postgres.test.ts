// The walkthrough again, on a stack whose state store is PostgreSQL v2 (the component of
// deploy/kubernetes/production-examples): the apps' keys and the workflow engine's actor state live in
// PostgreSQL, pub/sub stays on Redis. Same components but one, same code, same results: they are portable.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { POSTGRES_DATABASE, psql } from '../../scripts/lib/postgres.ts';
import { run } from '../../scripts/lib/proc.ts';
import { finished, ledger, placeOrder, stock, waitForOrder } from '../integration/client.ts';
import { checkFirstWrite } from '../integration/firstWrite.ts';
import { approvedBigOrder, autoApprovedOrder, rejectedBigOrder, shippingFailure } from '../integration/walkthrough.ts';

/** The v2 component's one table (no prefix configured): every key, each prefixed with its app id. */
async function postgresKeys(containing: string): Promise<string[]> {
  const sql = `SELECT key FROM state WHERE strpos(key, '${containing}') > 0 ORDER BY key`;
  return (await psql(inject('postgres'), POSTGRES_DATABASE, sql)).map(([key]) => key ?? '');
}

async function redisKeys(): Promise<string[]> {
  const result = await run('redis-cli', ['-p', String(inject('redisPort')), '--scan']);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean).sort();
}

/**
 * The order's workflow instance (actor state) and exactly these service keys are rows in PostgreSQL (the
 * order projection's, once its last event has reached it: a moment after the order ended).
 */
async function expectStoredInPostgres(orderId: string, serviceKeys: string[]): Promise<void> {
  const expected = serviceKeys.map((prefix) => `${prefix}${orderId}`).sort();
  let keys = await postgresKeys(orderId);
  for (let n = 0; n < 50 && expected.some((key) => !keys.includes(key)); n++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    keys = await postgresKeys(orderId);
  }
  const instance = `orderprocessing||dapr.internal.default.orderprocessing.workflow||${orderId}||`;
  expect(keys).toContain(`${instance}metadata`);
  expect(keys.filter((key) => key.startsWith(`${instance}history-`)).length).toBeGreaterThan(5);
  const others = keys.filter((key) => !key.startsWith(instance));
  expect(others).toEqual(expected);
}

describe('the walkthrough with the state store on PostgreSQL', () => {
  const reserved = 'inventory||reservation:';
  const charged = 'payments||ledger:';
  const shipped = 'shipping||shipment:';
  const told = 'notifications||timeline:';
  const ended = 'notifications||index:final:';
  const claimed = 'orderprocessing||order-id:';
  const decided = 'orderprocessing||decision:';

  it('completes an order under $1000', async () => {
    await expectStoredInPostgres(await autoApprovedOrder(), [reserved, charged, shipped, told, ended, claimed]);
  });

  it('completes a big order once approved', async () => {
    await expectStoredInPostgres(await approvedBigOrder(), [reserved, charged, shipped, told, ended, claimed, decided]);
  });

  it('gives the stock of a rejected order back and charges nothing', async () => {
    await expectStoredInPostgres(await rejectedBigOrder(), [reserved, told, ended, claimed, decided]);
  });

  it('refunds, releases the stock and fails the order when shipping fails', async () => {
    // The shipment's key holds its cancellation (version 3), which a ship still on its way would meet.
    await expectStoredInPostgres(await shippingFailure(), [reserved, charged, shipped, told, ended, claimed]);
  });

  it('leaves no state in Redis, only the pub/sub stream', async () => {
    expect(await redisKeys()).toEqual(['notifications']);
    expect(await postgresKeys('inventory||stock')).toEqual(['inventory||stock']);
    expect(await postgresKeys('notifications||orders:recent')).toEqual(['notifications||orders:recent']);
    expect(await postgresKeys('notifications||index:days')).toEqual(['notifications||index:days']);
  });
});

it('PostgreSQL v2 answers first-write saves the way the shared client expects', async () => {
  const { lostCreate, noSuchKey } = await checkFirstWrite('payments');
  expect(lostCreate.message).toBe('failed saving state in state store statestore: no item was updated');
  // Stricter than Redis, which would create the key: an ETag names a version, and there is none.
  expect(noSuchKey).toMatchObject({ status: 409, errorCode: 'ERR_STATE_SAVE' });
});

it('never oversells the last units, nor charges twice, with two replicas of inventory and payments', async () => {
  const ids = await Promise.all(
    Array.from({ length: 20 }, (_, n) => placeOrder({ customer: `last${n}`, items: ['oranges'], total: 1 })),
  );
  const ends = await Promise.all(ids.map((id) => waitForOrder(id, finished, 30_000)));
  const sold = ends.filter((end) => end.order_result?.success);
  expect(sold).toHaveLength(5); // TEST_ENV's stock: 5 oranges
  expect((await stock()).oranges).toBe(0);
  for (const { id } of sold) expect((await ledger(id)).map((entry) => entry.kind)).toEqual(['charge']);
  // Both replicas of each took calls: service invocation spreads them.
  const calls = (log: string, route: string) =>
    (readFileSync(join(inject('logDir'), log), 'utf8').match(new RegExp(`"url":"/${route}"`, 'g')) ?? []).length;
  expect(Math.min(calls('inventory.log', 'reserve'), calls('inventory-2.log', 'reserve'))).toBeGreaterThan(0);
  expect(Math.min(calls('payments.log', 'charge'), calls('payments-2.log', 'charge'))).toBeGreaterThan(0);
}, 60_000);
