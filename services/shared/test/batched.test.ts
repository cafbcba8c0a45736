import { describe, expect, it } from 'vitest';
import { BatchedUpdates } from '../src/batched.ts';
import { FakeState, yieldToOthers } from './fakeState.ts';

const add = (n: number) => (current: number | undefined) => ({ next: (current ?? 0) + n, result: (current ?? 0) + n });

describe('BatchedUpdates', () => {
  it('writes the changes that arrive together in one write, each caller getting its own result', async () => {
    const fake = new FakeState();
    const batched = new BatchedUpdates<number>(fake);
    fake.beforeSave = yieldToOthers;

    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batched.apply('count', add(n))));

    expect(fake.peek('count')).toBe(15);
    expect(results.at(-1)).toBe(15);
    expect(new Set(results).size).toBe(5);
    expect(batched.writes).toBeLessThan(5);
  });

  it('leaves out a change that throws; the others are written', async () => {
    const fake = new FakeState();
    const batched = new BatchedUpdates<number>(fake);
    const refused = new Error('no');

    const outcomes = await Promise.allSettled([
      batched.apply('count', add(1)),
      batched.apply('count', () => {
        throw refused;
      }),
      batched.apply('count', add(10)),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(fake.peek('count')).toBe(11);
  });

  it('applies the batch again on top of what another writer stored meanwhile', async () => {
    const fake = new FakeState();
    const batched = new BatchedUpdates<number>(fake);
    let interfered = false;
    fake.beforeSave = () => {
      if (interfered) return;
      interfered = true;
      fake.put('count', 100); // another replica writes first: our ETag no longer matches
    };

    await Promise.all([batched.apply('count', add(1)), batched.apply('count', add(2))]);

    expect(fake.conflicts).toBeGreaterThan(0);
    expect(fake.peek('count')).toBe(103);
  });
});
