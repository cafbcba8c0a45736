// The order lifecycle that every reader shares: the order of kinds, the endings, and how an order's latest
// step, status and state follow from the kinds it has had, whatever order they arrived in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_KINDS,
  type EventKind,
  endingOf,
  flagApplies,
  type Lifecycle,
  lifecycleOf,
  movesOn,
  rankOf,
  STEP_KINDS,
  statusAfter,
} from '../src/lifecycle.ts';

const of = (...kinds: EventKind[]) => lifecycleOf(kinds.map((kind) => ({ kind })));

describe('the lifecycle', () => {
  it('lists the kinds in the workflow’s order, the watchdog’s flags last', () => {
    expect(rankOf('received')).toBe(0);
    expect(rankOf('waiting_for_approval')).toBeLessThan(rankOf('approved'));
    expect(rankOf('paid')).toBeLessThan(rankOf('shipped'));
    expect(STEP_KINDS).toEqual(EVENT_KINDS.slice(0, -2));
  });

  it('ends an order with the workflow status and the business state of its ending', () => {
    expect(endingOf('shipped')).toBe('COMPLETED');
    expect(endingOf('rejected')).toBe('COMPLETED');
    expect(endingOf('compensated')).toBe('FAILED');
    expect(endingOf('paid')).toBeUndefined();
    expect(endingOf('stalled')).toBeUndefined();
    expect(STEP_KINDS.filter((kind) => endingOf(kind)).sort()).toEqual(
      ['approval_timed_out', 'cancelled', 'compensated', 'out_of_stock', 'rejected', 'shipped'].sort(),
    );
    expect(of('received', 'rejected')).toEqual({
      latest: 'rejected',
      status: 'COMPLETED',
      state: 'cancelled',
      reason: 'rejected',
    });
    expect(statusAfter('payment_failed')).toBe('RUNNING'); // failed, but still undoing what it did
  });

  it('moves an order only forward, and never once it ended', () => {
    expect(movesOn('received', 'paid')).toBe(true);
    expect(movesOn('paid', 'stock_reserved')).toBe(false);
    expect(movesOn('paid', 'paid')).toBe(false);
    expect(movesOn('paid', 'stalled')).toBe(false);
    expect(movesOn('out_of_stock', 'shipped')).toBe(false);
  });

  it('derives the same lifecycle from an order’s kinds in any order of arrival', () => {
    const orders: EventKind[][] = [
      ['received', 'stock_reserved', 'paid', 'shipped'],
      ['received', 'stock_reserved', 'waiting_for_approval', 'approved', 'paid', 'stalled'],
      ['received', 'stock_reserved', 'paid', 'shipping_failed', 'compensated'],
      ['received', 'out_of_stock'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...orders), fc.func(fc.integer()), (kinds, key) => {
        const shuffled = [...kinds].sort((a, b) => key(a) - key(b));
        expect(of(...shuffled)).toEqual(of(...kinds));
      }),
    );
  });

  it('keeps a flag while it applies: stalled while the order runs, deadline near while it waits', () => {
    const waiting = of('received', 'waiting_for_approval') as Lifecycle;
    const paid = of('received', 'paid') as Lifecycle;
    const shipped = of('received', 'paid', 'shipped') as Lifecycle;
    expect(flagApplies('stalled', paid)).toBe(true);
    expect(flagApplies('stalled', shipped)).toBe(false);
    expect(flagApplies('approval_deadline_near', waiting)).toBe(true);
    expect(flagApplies('approval_deadline_near', paid)).toBe(false);
  });

  it('knows no order before its first step', () => {
    expect(of()).toBeUndefined();
    expect(of('stalled')).toBeUndefined();
  });
});
