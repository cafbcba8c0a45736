// The workflow engine as the order service sees it (a WorkflowGateway), in memory, for unit tests.
import { EngineUnavailable, type StoredOrder, type WorkflowGateway } from '../src/engine.ts';
import type { OrderView } from '../src/schemas.ts';
import type { ApprovalDecision, Cancellation, OrderInput } from '../src/workflow/orderWorkflow.ts';

export class FakeEngine implements WorkflowGateway {
  readonly orders = new Map<string, StoredOrder>();
  /** Every workflow started, in order. */
  readonly placed: OrderInput[] = [];
  readonly approvals: Array<{ id: string; decision: ApprovalDecision }> = [];
  readonly cancellations: Array<{ id: string; by: string }> = [];

  /** The next start is applied, but its answer is lost as the sidecar goes away (as in a crash). */
  loseNextStartAnswer = false;

  /** Workflows started, counting a recreated one (Dapr 1.18 recreates a finished instance whose id is started again). */
  starts = 0;

  async start(input: OrderInput): Promise<'started' | 'exists'> {
    await Promise.resolve();
    const status = this.orders.get(input.orderId)?.view.status;
    if (status !== undefined && !['COMPLETED', 'FAILED', 'TERMINATED'].includes(status)) return 'exists';
    if (this.loseNextStartAnswer) {
      this.loseNextStartAnswer = false;
      await this.start(input);
      throw new EngineUnavailable();
    }
    this.starts += 1;
    const now = new Date().toISOString();
    this.orders.set(input.orderId, {
      input: structuredClone(input),
      view: { id: input.orderId, status: 'RUNNING', created_time: now, last_updated_time: now, details: input.order },
    });
    this.placed.push(structuredClone(input));
    return 'started';
  }

  async find(id: string): Promise<StoredOrder | undefined> {
    await Promise.resolve();
    const found = this.orders.get(id);
    return found && structuredClone(found);
  }

  async raiseApproval(id: string, decision: ApprovalDecision): Promise<void> {
    this.approvals.push({ id, decision });
  }

  async raiseCancel(id: string, cancellation: Cancellation): Promise<void> {
    this.cancellations.push({ id, by: cancellation.by });
  }

  async purge(id: string): Promise<boolean> {
    return this.orders.delete(id);
  }

  /** Moves an order on, as the workflow would. */
  update(id: string, view: Partial<OrderView>): void {
    const found = this.orders.get(id);
    if (!found) throw new Error(`no order ${id}`);
    found.view = { ...found.view, ...view };
  }

  /** Orders that are there and finished, as far as a purge needs to know. */
  static finished(ids: string[]): FakeEngine {
    const engine = new FakeEngine();
    for (const id of ids) {
      const at = new Date(0).toISOString();
      engine.orders.set(id, {
        input: { orderId: id } as OrderInput,
        view: { id, status: 'COMPLETED', created_time: at, last_updated_time: at } as OrderView,
      });
    }
    return engine;
  }
}
