// The services' write rule on Redis, through daprd; test/postgres checks the same on PostgreSQL v2.
import { expect, it } from 'vitest';
import { checkFirstWrite } from './firstWrite.ts';

it('Redis answers first-write saves the way the shared client expects', async () => {
  const { lostCreate, noSuchKey } = await checkFirstWrite('payments');
  expect(lostCreate.message).toMatch(/failed to set key payments\|\|first-write-check:/);
  // Redis writes a key that does not exist whatever ETag comes with it (PostgreSQL refuses).
  expect(noSuchKey.status).toBe(204);
});
