// One workflow per order id, whatever the replicas, retries and crashes: the claim protocol of
// placement.ts against an engine that, like Dapr 1.18, recreates a finished instance started again.
import { describe, expect, it } from 'vitest';
import { FakeState, yieldToOthers } from '../../shared/test/fakeState.ts';
import { OrderArchive } from '../src/archive.ts';
import { OrderService } from '../src/orderService.ts';
import { claimKey, type IdClaim, OrderPlacement } from '../src/placement.ts';
import type { OrderRequest } from '../src/schemas.ts';
import type { OrderInput } from '../src/workflow/orderWorkflow.ts';
import { FakeEngine } from './fakeEngine.ts';
import { FakeProjection } from './fakeProjection.ts';

const ORDER: OrderRequest = { customer: 'Riley', items: ['milk'], total: 3 };
const SETTINGS = {
  approvalTimeoutMs: 1000,
  retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, maxElapsedMs: 0 },
};
const input = (orderId: string, requestHash = 'h1'): OrderInput => ({
  orderId,
  order: ORDER,
  requestHash,
  ...SETTINGS,
});

describe('placing an order under an Idempotency-Key on two replicas at once', () => {
  it('starts one workflow, and both answer with its id, even when it finishes at once', async () => {
    const store = new FakeState();
    store.beforeSave = yieldToOthers;
    const engine = new FakeEngine();
    const finishAtOnce = engine.start.bind(engine);
    engine.start = async (order) => {
      const started = await finishAtOnce(order);
      engine.update(order.orderId, { status: 'COMPLETED' }); // an auto-approved order, done in a moment
      return started;
    };
    const replicas = [0, 1].map(
      () => new OrderService(engine, SETTINGS, store, new OrderArchive(store, new FakeProjection())),
    );

    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, n) => replicas[n % 2]?.place(ORDER, { idempotencyKey: 'key-1' })),
    );

    expect(new Set(ids).size).toBe(1);
    expect(engine.starts).toBe(1);
  });

  it('never starts it again when the other replica placed and finished it right after this one looked', async () => {
    const store = new FakeState();
    const engine = new FakeEngine();
    const [first, second] = [0, 1].map(() => new OrderPlacement(engine, store, { takeoverMs: 200, pollMs: 5 }));
    // Whatever the second placement asks first, the first placement runs to the end (and its order
    // finishes) right after that answer, before the second goes on.
    let other: (() => Promise<void>) | undefined = async () => {
      other = undefined;
      await first?.place(input('order_riley_ddddd'));
      engine.update('order_riley_ddddd', { status: 'COMPLETED' });
    };
    const afterFirstCall =
      <T>(call: () => Promise<T>) =>
      async () => {
        const result = await call();
        await other?.();
        return result;
      };
    const find = engine.find.bind(engine);
    engine.find = (id) => afterFirstCall(() => find(id))();
    const save = store.saveState.bind(store);
    store.saveState = (items) => afterFirstCall(() => save(items))();

    await second?.place(input('order_riley_ddddd'));

    expect(engine.starts).toBe(1);
  });
});

describe('an order placed without an Idempotency-Key', () => {
  const unkeyed = (orderId: string): OrderInput => ({ orderId, order: ORDER, ...SETTINGS });

  it('claims its random id in one write, reads nothing and keeps no owner', async () => {
    const store = new FakeState();
    const engine = new FakeEngine();
    expect(await new OrderPlacement(engine, store).place(unkeyed('order_riley_fffff'))).toEqual({ placed: true });
    expect(engine.starts).toBe(1);
    expect(store.writes).toBe(1);
    expect(store.reads).toBe(0);
    const claim = store.peek<IdClaim>(claimKey('order_riley_fffff'));
    expect(claim).toMatchObject({ state: 'starting', order: ORDER });
    expect(claim?.by).toBeUndefined();
  });

  it('gives up an id that is taken at once: another order’s claim is never waited on nor taken over', async () => {
    const store = new FakeState();
    const engine = new FakeEngine();
    const now = 1_000_000;
    // An order of long ago, its history purged, whose claim was never marked started.
    store.put(claimKey('order_riley_ggggg'), { state: 'starting', at: now - 86_400_000, order: ORDER });
    const placement = new OrderPlacement(engine, store, { takeoverMs: 5000, pollMs: 1, now: () => now });
    expect(await placement.place(unkeyed('order_riley_ggggg'))).toEqual({ placed: false, requestHash: undefined });
    expect(engine.starts).toBe(0);
    expect(store.peek<IdClaim>(claimKey('order_riley_ggggg'))?.at).toBe(now - 86_400_000);
  });
});

describe('a claim', () => {
  it('whose owner died before starting the workflow is taken over, once', async () => {
    const store = new FakeState();
    const engine = new FakeEngine();
    let now = 1_000_000;
    store.put(claimKey('order_riley_aaaaa'), { state: 'starting', by: 'gone', at: now, requestHash: 'h1' });
    const placements = [0, 1].map(
      () => new OrderPlacement(engine, store, { takeoverMs: 5000, pollMs: 1, now: () => now }),
    );

    const waiting = Promise.all(placements.map((placement) => placement.place(input('order_riley_aaaaa'))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    now += 5000;
    const outcomes = await waiting;

    expect(outcomes.filter((outcome) => outcome.placed)).toHaveLength(1);
    expect(engine.starts).toBe(1);
    expect(store.peek<IdClaim>(claimKey('order_riley_aaaaa'))?.state).toBe('started');
  });

  it('keeps the id of a purged order taken: placing it again starts nothing', async () => {
    const store = new FakeState();
    const engine = new FakeEngine();
    const placement = new OrderPlacement(engine, store);
    expect(await placement.place(input('order_riley_bbbbb'))).toEqual({ placed: true });
    await engine.purge('order_riley_bbbbb');

    expect(await placement.place(input('order_riley_bbbbb'))).toEqual({ placed: false, requestHash: 'h1' });
    expect(engine.starts).toBe(1);
  });

  it('names the request hash it was placed with, so that another body under the key is told apart', async () => {
    const store = new FakeState();
    const placement = new OrderPlacement(new FakeEngine(), store);
    await placement.place(input('order_riley_ccccc', 'first'));
    expect(await placement.place(input('order_riley_ccccc', 'second'))).toEqual({
      placed: false,
      requestHash: 'first',
    });
  });
});
