// The order projection in this process, for orderprocessing's tests: notifications' own timelines and
// index over a FakeState, fed by `take` as the subscription feeds them, and read as orderprocessing reads it.
import type { FinalSummary, IndexedStatus, ListRequest } from '#shared/orderProjection.ts';
import { listOrders } from '../../notifications/src/orderIndex/listing.ts';
import { Projection } from '../../notifications/test/indexHelpers.ts';
import { FakeState } from '../../shared/test/fakeState.ts';
import type { OrderProjection } from '../src/orderProjection.ts';

export class FakeProjection implements OrderProjection {
  readonly parts: Projection;

  constructor(readonly store = new FakeState()) {
    this.parts = new Projection(store);
  }

  get index() {
    return this.parts.index;
  }

  /** Takes events as the subscription does. */
  take(...notifications: Parameters<Projection['take']>): Promise<void> {
    return this.parts.take(...notifications);
  }

  list = (request: ListRequest) => listOrders(this.store, request);
  find = (id: string) => this.index.find(id);
  final = (id: string) => this.index.final(id);
  runningOrders = () => this.index.runningOrders();
  repairRunning = async (id: string) => this.index.repairRunning(id, await this.index.find(id));
  markEnded = (id: string, status: Exclude<IndexedStatus, 'RUNNING'>, at: number) =>
    this.index.markEnded(id, status, at);
  markPurged = (id: string, final?: FinalSummary) => this.index.markPurged(id, final);
}
