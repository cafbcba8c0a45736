import { describe, expect, it } from 'vitest';
import { EtagMismatch } from '#shared/dapr.ts';
import { createIfAbsent, updateState } from '#shared/state.ts';
import { FakeState, touches } from './fakeState.ts';

interface Counter {
  n: number;
}

describe('FakeState', () => {
  it('refuses a save with a stale ETag and keeps the stored value', async () => {
    const fake = new FakeState({ k: { n: 1 } });
    const { etag } = await fake.getState<Counter>('k');
    fake.put('k', { n: 2 });
    await expect(fake.saveState([{ key: 'k', value: { n: 3 }, etag }])).rejects.toBeInstanceOf(EtagMismatch);
    expect(fake.peek('k')).toEqual({ n: 2 });
    expect(fake.conflicts).toBe(1);
  });

  it('gives out copies and a new numeric ETag per write', async () => {
    const fake = new FakeState();
    await fake.saveState([{ key: 'k', value: { n: 1 } }]);
    const first = await fake.getState<Counter>('k');
    (first.value as Counter).n = 99;
    await fake.saveState([{ key: 'k', value: { n: 2 }, etag: first.etag }]);
    const second = await fake.getState<Counter>('k');
    expect(second.value).toEqual({ n: 2 });
    expect(first.etag).toMatch(/^\d+$/);
    expect(Number(second.etag)).toBeGreaterThan(Number(first.etag));
  });

  it('throws on the chosen save only, writing nothing', async () => {
    const fake = new FakeState();
    fake.failOnSave(2, touches('b'));
    await fake.saveState([{ key: 'b', value: 1 }]);
    const etag = (await fake.getState('b')).etag;
    await expect(fake.saveState([{ key: 'b', value: 2, etag }])).rejects.toThrow('simulated crash');
    await fake.saveState([{ key: 'b', value: 3, etag }]);
    expect(fake.peek('b')).toBe(3);
    expect(fake.failed).toBe(1);
    expect(fake.writes).toBe(2);
  });
});

describe('creating a key (a save without an ETag)', () => {
  it('succeeds only while the key does not exist', async () => {
    const fake = new FakeState();
    await fake.saveState([{ key: 'c', value: 1 }]);
    await expect(fake.saveState([{ key: 'c', value: 2 }])).rejects.toThrow(EtagMismatch);
    expect(fake.peek('c')).toBe(1);
  });
});

describe('updateState', () => {
  it('retries after an EtagMismatch and converges on the fresh value', async () => {
    const fake = new FakeState({ counter: { n: 0 } });
    let interfered = false;
    fake.beforeSave = (_items, store) => {
      if (interfered) return;
      interfered = true;
      store.put('counter', { n: 10 }); // someone else writes between our read and our save
    };
    const seen: Array<number | undefined> = [];

    const result = await updateState<Counter, number>(fake, 'counter', (current) => {
      seen.push(current?.n);
      const n = (current?.n ?? 0) + 1;
      return { next: { n }, result: n };
    });

    expect(result).toBe(11);
    expect(seen).toEqual([0, 10]);
    expect(fake.conflicts).toBe(1);
    expect(fake.writes).toBe(1);
    expect(fake.peek('counter')).toEqual({ n: 11 });
  });

  it('writes nothing when the change leaves out `next`', async () => {
    const fake = new FakeState({ counter: { n: 5 } });
    const etag = fake.etagOf('counter');

    const result = await updateState<Counter, string>(fake, 'counter', () => ({ result: 'unchanged' }));

    expect(result).toBe('unchanged');
    expect(fake.saveLog).toHaveLength(0);
    expect(fake.etagOf('counter')).toBe(etag);
  });

  it('gives up after maxAttempts and rethrows the EtagMismatch', async () => {
    const fake = new FakeState({ counter: { n: 0 } });
    let other = 100;
    fake.beforeSave = (_items, store) => store.put('counter', { n: other++ }); // always loses the race
    let calls = 0;

    const update = updateState<Counter, void>(
      fake,
      'counter',
      (current) => {
        calls++;
        return { next: { n: (current?.n ?? 0) + 1 }, result: undefined };
      },
      3,
    );

    await expect(update).rejects.toBeInstanceOf(EtagMismatch);
    expect(calls).toBe(3);
    expect(fake.conflicts).toBe(3);
    expect(fake.writes).toBe(0);
    expect(fake.peek('counter')).toEqual({ n: 102 });
  });

  it('does not retry other errors', async () => {
    const fake = new FakeState({ counter: { n: 0 } });
    fake.failOnSave(1, touches('counter'), new Error('sidecar down'));
    let calls = 0;

    const update = updateState<Counter, void>(fake, 'counter', () => {
      calls++;
      return { next: { n: 1 }, result: undefined };
    });

    await expect(update).rejects.toThrow('sidecar down');
    expect(calls).toBe(1);
    expect(fake.peek('counter')).toEqual({ n: 0 });
  });
});

describe('createIfAbsent', () => {
  it('creates a key that is not there, and leaves one that is as it was', async () => {
    const store = new FakeState();
    expect(await createIfAbsent(store, 'k', { n: 1 })).toBe(true);
    expect(await createIfAbsent(store, 'k', { n: 2 })).toBe(false);
    expect(store.peek('k')).toEqual({ n: 1 });
    expect({ reads: store.reads, writes: store.writes }).toEqual({ reads: 0, writes: 1 });
  });

  it('throws what is not a lost create', async () => {
    const store = new FakeState();
    store.failOnSave(1, () => true, new Error('redis down'));
    await expect(createIfAbsent(store, 'k', 1)).rejects.toThrow('redis down');
  });
});
