import { describe, expect, it } from 'vitest';
import { KILL_TARGETS, planKills, planOrders, targetName } from './plan.ts';
import { EXPECTED_LEDGER, EXPECTED_STEPS, findProblems } from './report.ts';

describe('a chaos plan', () => {
  it('kills every kind of target in every run that has enough kills', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const killed = new Set(planKills(seed, KILL_TARGETS.length).map((kill) => targetName(kill.target)));
      expect(killed.size, `seed ${seed}`).toBe(KILL_TARGETS.length);
    }
  });

  it('repeats its orders and its kill schedule from the seed', () => {
    expect(planKills(4242, 12)).toEqual(planKills(4242, 12));
    expect(planOrders(4242, 40)).toEqual(planOrders(4242, 40));
    expect(planKills(4242, 12)).not.toEqual(planKills(4243, 12));
  });

  it('spaces the kills 1 to 3 s apart and keeps each process down 0.3 to 1.5 s', () => {
    const kills = planKills(77, 12);
    kills.forEach((kill, n) => {
      const gap = kill.atMs - (kills[n - 1]?.atMs ?? 0);
      expect(gap).toBeGreaterThanOrEqual(1000);
      expect(gap).toBeLessThanOrEqual(3000);
      expect(kill.downMs).toBeGreaterThanOrEqual(300);
      expect(kill.downMs).toBeLessThanOrEqual(1500);
    });
  });

  it('places every kind of order, each under an Idempotency-Key of its own', () => {
    const orders = planOrders(9, 40);
    expect(new Set(orders.map((order) => order.kind)).size).toBe(4);
    expect(new Set(orders.map((order) => order.idempotencyKey)).size).toBe(40);
  });
});

describe('the checks of a chaos run', () => {
  const planned = planOrders(4242, 1)[0] as NonNullable<ReturnType<typeof planOrders>[0]>;
  const steps = EXPECTED_STEPS[planned.kind];
  const ended = {
    id: 'order_chaos_aaaaa',
    planned,
    customer: planned.customer,
    status: planned.kind === 'shippingFailure' ? 'FAILED' : 'COMPLETED',
    success: planned.kind === 'auto' || planned.kind === 'approved',
    ledger: EXPECTED_LEDGER[planned.kind],
    steps,
    reservation: planned.kind === 'auto' || planned.kind === 'approved' ? 'reserved' : 'released',
    shipped: planned.kind === 'auto' || planned.kind === 'approved',
    reservedItems: [],
  };
  const stock = Object.fromEntries(planned.items.map((item) => [item, 10]));
  const consumed = { ...stock };
  if (ended.shipped) for (const item of planned.items) consumed[item] = (consumed[item] ?? 0) - 1;

  it('find an order that GET /orders lists behind its end, or not at all', () => {
    const listed = { status: ended.status, lastStep: steps.at(-1) as string };
    expect(findProblems([{ ...ended, listed }], consumed, stock)).toEqual([]);
    const behind = findProblems([{ ...ended, listed: { status: 'RUNNING', lastStep: 'paid' } }], consumed, stock);
    expect(behind).toEqual([expect.stringMatching(/is RUNNING at paid in GET \/orders/)]);
    expect(findProblems([ended], consumed, stock)).toEqual([expect.stringMatching(/not listed in GET \/orders/)]);
  });
});
