// Stock against many interleavings at once: random reserves and releases of a few orders, repeated and
// late, on three replicas sharing one store, with writes that fail as a crash would. Whatever happens, the
// counts must equal the initial stock minus what the orders that hold a reservation hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemName } from '#shared/messages.ts';
import { FakeState, yieldToOthers } from '../../shared/test/fakeState.ts';
import { type Reservation, Stock, type StockCounts } from '../src/stock.ts';

const INITIAL: StockCounts = { milk: 3, bread: 3, apples: 3, oranges: 3, iPhone: 2 };
const ORDERS = ['order_a_aaaaa', 'order_b_bbbbb', 'order_c_ccccc', 'order_d_ddddd'];
const ITEMS: Record<string, ItemName[]> = {
  order_a_aaaaa: ['iPhone', 'milk'],
  order_b_bbbbb: ['iPhone'],
  order_c_ccccc: ['milk', 'milk'],
  order_d_ddddd: ['iPhone', 'bread'],
};

const step = fc.record({
  op: fc.constantFrom('reserve' as const, 'release' as const),
  order: fc.integer({ min: 0, max: ORDERS.length - 1 }),
  replica: fc.integer({ min: 0, max: 2 }),
  /** This call's writes fail at its nth save (0: none), as if the process died there. */
  crashAt: fc.integer({ min: 0, max: 3 }),
});

describe('Stock on three replicas', () => {
  it('keeps counts exact through any interleaving of repeated, late and crashing calls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(step, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        async (rounds) => {
          const fake = new FakeState();
          fake.beforeSave = yieldToOthers;
          const replicas = [0, 1, 2].map(() => new Stock(fake, INITIAL));
          for (const round of rounds) {
            // The calls of a round run at once; each may crash at one of its writes.
            await Promise.all(
              round.map(async ({ op, order, replica, crashAt }) => {
                const orderId = ORDERS[order] as string;
                if (crashAt > 0) fake.failOnSave(crashAt);
                const stock = replicas[replica] as Stock;
                await (op === 'reserve' ? stock.reserve(orderId, ITEMS[orderId] ?? []) : stock.release(orderId)).catch(
                  () => undefined,
                );
              }),
            );
          }
          // A fresh replica starts and settles what the crashes left pending.
          const survivor = new Stock(fake, INITIAL);
          fake.beforeSave = undefined;
          fake.cancelFailures();
          await survivor.initialise();
          await Promise.all(replicas.map((replica) => replica.settled()));

          const held: Record<string, number> = {};
          for (const orderId of ORDERS) {
            const record = fake.peek<Reservation>(`reservation:${orderId}`);
            if (record?.status !== 'reserved') continue;
            for (const item of record.items) held[item] = (held[item] ?? 0) + 1;
          }
          const counts = await survivor.counts();
          for (const [item, initial] of Object.entries(INITIAL)) {
            expect(counts[item as ItemName], item).toBe(initial - (held[item] ?? 0));
          }
          expect(fake.peek<{ pending: object }>('stock')?.pending).toEqual({});
        },
      ),
      { numRuns: 300 },
    );
  });
});
