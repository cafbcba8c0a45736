// The order projection in this process, for orderprocessing's tests: notifications' own index over a
// FakeState, fed by `take` as the subscription feeds it, and read as orderprocessing reads it.
import type { IndexedStatus, ListRequest } from '#shared/orderProjection.ts';
import { listOrders } from '../../notifications/src/orderIndex/listing.ts';
import { OrderIndex } from '../../notifications/src/orderIndex/orderIndex.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import type { OrderProjection } from '../src/orderProjection.ts';

export class FakeProjection implements OrderProjection {
  readonly index: OrderIndex;

  constructor(readonly store = new FakeState()) {
    this.index = new OrderIndex(store);
  }

  /** Takes events as the subscription does, then writes the deferred advances. */
  async take(...notifications: Parameters<OrderIndex['take']>[0][]): Promise<void> {
    for (const notification of notifications) await this.index.take(notification);
    await this.index.flush();
  }

  list = (request: ListRequest) => listOrders(this.store, request);
  find = (id: string) => this.index.find(id);
  final = (id: string) => this.index.final(id);
  runningOrders = () => this.index.runningOrders();
  repairRunning = async (id: string) => this.index.repairRunning(id, await this.index.find(id));
  markEnded = (id: string, status: Exclude<IndexedStatus, 'RUNNING'>, at: number) =>
    this.index.markEnded(id, status, at);
  markPurged = (id: string) => this.index.markPurged(id);
}
