// What the services' one write rule (services/shared/src/dapr.ts: every save is first-write, a save
// without an ETag creates only) meets in a real state store, through a real daprd. Run on Redis by
// state.test.ts and on PostgreSQL v2 by test/postgres: the client must see the same outcomes on both,
// whatever status and message each store's conflict comes back with.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { DaprHttpClient, EtagMismatch, STATE_STORE } from '../../services/shared/src/dapr.ts';
import { updateState } from '../../services/shared/src/state.ts';
import { apps, tokensOf } from './client.ts';

/** How daprd answers a save: its status, and for a refusal its error code and message. */
export interface SidecarAnswer {
  status: number;
  errorCode?: string;
  message?: string;
}

interface Counter {
  n: number;
}

/**
 * Drives the write rule through `appId`'s sidecar on fresh keys (prefixed with the app id, like the app's
 * own) and asserts what the client sees. Returns daprd's raw answers to a create that lost, a save with a
 * stale ETag and one with an ETag for a key that does not exist.
 */
export async function checkFirstWrite(
  appId: string,
): Promise<Record<'lostCreate' | 'staleEtag' | 'noSuchKey', SidecarAnswer>> {
  const sidecar = apps()[appId];
  if (!sidecar) throw new Error(`no app ${appId}`);
  const options = { host: '127.0.0.1', httpPort: sidecar.daprHttpPort, apiToken: tokensOf(appId).daprApiToken };
  const client = new DaprHttpClient(options);
  const raw = async (item: { key: string; value: unknown; etag?: string }): Promise<SidecarAnswer> => {
    const response = await fetch(`http://127.0.0.1:${sidecar.daprHttpPort}/v1.0/state/${STATE_STORE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'dapr-api-token': options.apiToken },
      body: JSON.stringify([{ ...item, options: { concurrency: 'first-write' } }]),
    });
    const text = await response.text();
    return { status: response.status, ...(text ? (JSON.parse(text) as Omit<SidecarAnswer, 'status'>) : {}) };
  };
  const key = `first-write-check:${randomUUID()}`;

  // A save without an ETag creates; a second one finds the key and must not overwrite it.
  await client.saveState([{ key, value: { n: 1 } }]);
  await expect(client.saveState([{ key, value: { n: 2 } }])).rejects.toBeInstanceOf(EtagMismatch);
  const first = await client.getState<Counter>(key);
  expect(first.value).toEqual({ n: 1 });
  expect(first.etag).toBeTruthy();

  // With the current ETag it writes (and the ETag changes); with the old one it is refused.
  await client.saveState([{ key, value: { n: 3 }, etag: first.etag }]);
  const second = await client.getState<Counter>(key);
  expect(second).toMatchObject({ value: { n: 3 } });
  expect(second.etag).not.toBe(first.etag);
  await expect(client.saveState([{ key, value: { n: 4 }, etag: first.etag }])).rejects.toBeInstanceOf(EtagMismatch);

  // Read-modify-write from many callers at once loses no update.
  const counter = `first-write-check:${randomUUID()}`;
  const increment = () =>
    updateState<Counter, void>(client, counter, (c = { n: 0 }) => ({ next: { n: c.n + 1 }, result: undefined }));
  await Promise.all(Array.from({ length: 20 }, increment));
  expect((await client.getState<Counter>(counter)).value).toEqual({ n: 20 });

  // A bulk read gives each key as a read of its own would, a missing one without value or ETag.
  const missing = `first-write-check:${randomUUID()}`;
  const bulk = await client.getStates<Counter>([key, missing, counter]);
  expect(bulk).toEqual([second, { value: undefined, etag: undefined }, await client.getState<Counter>(counter)]);
  // One save of several keys (as the notifications' timelines are written in batches): a create beside an
  // update with a current ETag writes both; with a stale ETag among them, the save is refused.
  const created = `first-write-check:${randomUUID()}`;
  await client.saveState([
    { key: created, value: { n: 1 } },
    { key: counter, value: { n: 21 }, etag: bulk[2]?.etag },
  ]);
  expect((await client.getStates<Counter>([created, counter])).map((entry) => entry.value)).toEqual([
    { n: 1 },
    { n: 21 },
  ]);
  await expect(
    client.saveState([
      { key: `first-write-check:${randomUUID()}`, value: { n: 1 } },
      { key: counter, value: { n: 22 }, etag: bulk[2]?.etag },
    ]),
  ).rejects.toThrow();
  expect((await client.getState<Counter>(counter)).value).toEqual({ n: 21 });

  // daprd's own answers: a stale ETag is a 409, a lost create a plain 500 (the client tells it from other
  // 500s by its message, which each store words its own way: the caller pins it). An ETag for a key that
  // does not exist is where the stores differ (the caller pins that too); updateState never sends one.
  const answers = {
    lostCreate: await raw({ key, value: { n: 5 } }),
    staleEtag: await raw({ key, value: { n: 5 }, etag: first.etag ?? '' }),
    noSuchKey: await raw({ key: `first-write-check:${randomUUID()}`, value: 1, etag: second.etag ?? '' }),
  };
  expect(answers.lostCreate).toMatchObject({ status: 500, errorCode: 'ERR_STATE_SAVE' });
  expect(answers.staleEtag).toMatchObject({ status: 409, errorCode: 'ERR_STATE_SAVE' });
  expect(answers.staleEtag.message).toMatch(/^failed saving state in state store statestore: possible etag mismatch/);
  return answers;
}
