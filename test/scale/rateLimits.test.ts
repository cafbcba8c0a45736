// A client's limit holds across replicas: two orderprocessing processes count its decisions in the state
// store, so 30 approvals sent to both at once, from one client behind a trusted proxy, get 20 answers
// and 10 429s, not 20 from each. Another client behind the same proxy has a limit of its own.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, inject, it } from 'vitest';
import { DECISIONS_PER_MINUTE } from './globalSetup.ts';

const scale = () => inject('scale');

/** An approval of an order that does not exist (404 while under the limit), through `replica`. */
async function approve(replica: number, client: string) {
  const response = await fetch(`${scale().urls.orderprocessing?.[replica]}/orders/order_nobody_zzzzz/approve`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${scale().credentials.approvers.chris}`,
      'x-forwarded-for': client,
    },
    body: JSON.stringify({ approved: true }),
  });
  await response.arrayBuffer();
  return { replica, status: response.status };
}

it(`allows a client ${DECISIONS_PER_MINUTE} decisions a minute across both orderprocessing replicas`, async () => {
  // The limit counts in windows of a minute: stay clear of a window's end.
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 55_000) await sleep(60_000 - intoWindow + 100);

  const answers = await Promise.all(Array.from({ length: 30 }, (_, n) => approve(n % 2, '198.51.100.77')));
  const served = answers.filter((answer) => answer.status === 404);
  expect(served).toHaveLength(DECISIONS_PER_MINUTE);
  expect(answers.filter((answer) => answer.status === 429)).toHaveLength(30 - DECISIONS_PER_MINUTE);
  expect(new Set(served.map((answer) => answer.replica))).toEqual(new Set([0, 1]));

  expect((await approve(0, '198.51.100.78')).status).toBe(404);
});
