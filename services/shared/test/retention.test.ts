import { describe, expect, it } from 'vitest';
import { ttlSecondsOf, withRetention } from '#shared/retention.ts';
import { FakeState } from './fakeState.ts';

const DAY = 86_400_000;

describe('retention rules', () => {
  it('give the keys they name a TTL in whole seconds, and leave the others for good', async () => {
    const fake = new FakeState();
    const store = withRetention(fake, [
      { prefix: 'reservation:', retentionMs: 90 * DAY },
      { prefix: 'ledger:', retentionMs: undefined },
    ]);
    await store.saveState([{ key: 'reservation:order_a_aaaaa', value: 1 }]);
    await store.saveState([{ key: 'ledger:order_a_aaaaa', value: 1 }]);
    await store.saveState([{ key: 'stock', value: 1 }]);

    expect(fake.ttlOf('reservation:order_a_aaaaa')).toBe(90 * 86_400);
    expect(fake.ttlOf('ledger:order_a_aaaaa')).toBeUndefined();
    expect(fake.ttlOf('stock')).toBeUndefined();
  });

  it('set the TTL again on every write of the key, so an update cannot drop it', async () => {
    const fake = new FakeState();
    const store = withRetention(fake, [{ prefix: 'timeline:', retentionMs: 1500 }]);
    await store.saveState([{ key: 'timeline:x', value: 1 }]);
    await store.saveState([{ key: 'timeline:x', value: 2, etag: fake.etagOf('timeline:x') }]);
    expect(fake.ttlOf('timeline:x')).toBe(2);
  });

  it('round up to at least a second', () => {
    expect(ttlSecondsOf('a:1', [{ prefix: 'a:', retentionMs: 1 }])).toBe(1);
  });
});
