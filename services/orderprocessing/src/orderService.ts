// What the order API does, without HTTP: place an order (one workflow per order id, an Idempotency-Key
// naming the same order again), read it, pass on an approver's decision, purge it. Routes call this; the
// engine behind it is a gateway (engine.ts), so unit tests run it against an in-memory one.
import { Conflict, NotFound, Problem } from '#shared/errors.ts';
import type { FinalSummary } from '#shared/orderProjection.ts';
import { createIfAbsent, type StateClient } from '#shared/state.ts';
import type { OrderArchive } from './archive.ts';
import type { StoredOrder, WorkflowGateway } from './engine.ts';
import { newOrderId, orderIdForKey, requestHash } from './orderId.ts';
import { type OrderProjection, unavailableIfUnreached } from './orderProjection.ts';
import { OrderPlacement, type PlacementOptions } from './placement.ts';
import type { OrderRequest, OrderView } from './schemas.ts';
import { APPROVAL_THRESHOLD, type ApprovalDecision, type OrderInput } from './workflow/orderWorkflow.ts';
import type { RetryPolicy } from './workflow/retry.ts';
import type { WorkflowTrace } from './workflow/tracing.ts';

export interface OrderSettings {
  approvalTimeoutMs: number;
  retry: RetryPolicy;
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'TERMINATED']);

/** The first decision made about a big order: the one that counts. */
export interface Decision {
  kind: 'approval' | 'cancel';
  /** For an approval: approved or rejected. */
  approved?: boolean;
  by: string;
  at: string;
}

export const decisionKey = (orderId: string) => `decision:${orderId}`;

const describeDecision = (decision: Decision) =>
  decision.kind === 'cancel'
    ? `cancelled by ${decision.by}`
    : `${decision.approved ? 'approved' : 'rejected'} by ${decision.by}`;

/** How a finished order ended, as the engine shows it (an order terminated through Dapr has none). */
function finalSummaryOf(view: OrderView): FinalSummary | undefined {
  const at = view.last_updated_time;
  if (view.status === 'COMPLETED' && view.order_result) {
    const { success, message } = view.order_result;
    return { status: 'COMPLETED', at, success, message };
  }
  if (view.status === 'FAILED') {
    return { status: 'FAILED', at, success: false, message: view.failure_details?.message ?? 'the order failed' };
  }
  return undefined;
}

/** What happened to a decision: sent to a waiting order, or kept for the wait it will reach. */
export type DecisionOutcome = 'sent' | 'kept';

export class OrderService {
  private readonly placement: OrderPlacement;

  constructor(
    private readonly engine: WorkflowGateway,
    private readonly settings: OrderSettings,
    /** Where each order's first decision is kept. */
    private readonly store: StateClient,
    /** How orders whose history is purged ended. */
    private readonly archive: Pick<OrderArchive, 'find'>,
    /** Told of purges, so that the list leaves them out. */
    private readonly projection?: Pick<OrderProjection, 'markPurged'>,
    placement: PlacementOptions = {},
  ) {
    this.placement = new OrderPlacement(engine, store, placement);
  }

  /**
   * Places the order and returns its id. With an Idempotency-Key the id follows from the key, so the same
   * key and body name the same order (never a second workflow); the same key with another body is refused.
   */
  async place(order: OrderRequest, options: { idempotencyKey?: string; trace?: WorkflowTrace } = {}) {
    const key = options.idempotencyKey;
    const hash = key ? requestHash(order) : undefined;
    const input = (orderId: string): OrderInput => ({
      orderId,
      order,
      approvalTimeoutMs: this.settings.approvalTimeoutMs,
      retry: this.settings.retry,
      ...(hash ? { requestHash: hash } : {}),
      ...(options.trace ? { trace: options.trace } : {}),
    });

    let id = key ? orderIdForKey(order.customer, key) : newOrderId(order.customer);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.placement.place(input(id));
      if (outcome.placed) return id;
      if (key) {
        if (outcome.requestHash !== hash) {
          throw new Problem('invalid', 'this Idempotency-Key was already used for a different order');
        }
        return id;
      }
      // A random id that is taken (1 in 60 million): draw another.
      if (attempt >= 3) throw new Error(`could not find a free order id for ${order.customer}`);
      id = newOrderId(order.customer);
    }
  }

  /** The order as the API shows it: the engine's view, or once its history is purged, how it ended. */
  async view(id: string): Promise<{ view: OrderView; trace?: WorkflowTrace }> {
    const found = await this.engine.find(id);
    if (found) return { view: found.view, ...(found.input.trace ? { trace: found.input.trace } : {}) };
    const archived = await this.archived(id);
    if (archived) return { view: archived };
    throw new NotFound(`order ${id} not found`);
  }

  /** The order as the engine has it; an archived one is finished (409), an unknown one 404. */
  private async find(id: string, action: string): Promise<StoredOrder> {
    const found = await this.engine.find(id);
    if (found) return found;
    const archived = await this.archived(id);
    if (archived) throw new Conflict(`order ${id} is ${archived.status} (archived): there is nothing to ${action}`);
    throw new NotFound(`order ${id} not found`);
  }

  /**
   * An approver's decision about a big order that runs: it waits for one now, or will (the engine keeps an
   * event raised before the wait and hands it over when the wait begins). The first decision counts; a
   * different one after it gets 409, the same one again is sent again (a retry after a lost answer).
   */
  async decide(id: string, decision: ApprovalDecision): Promise<DecisionOutcome> {
    const outcome = await this.record(id, { kind: 'approval', approved: decision.approved, by: decision.approver });
    await this.engine.raiseApproval(id, decision);
    return outcome;
  }

  /** Cancels a big order until its approval wait is over: after that it is paid, and undoing it is a refund. */
  async cancel(id: string, by: string): Promise<DecisionOutcome> {
    const outcome = await this.record(id, { kind: 'cancel', by });
    await this.engine.raiseCancel(id, { by });
    return outcome;
  }

  /**
   * Deletes a finished order's history. The projection is told first, with how the order ended (its last
   * event may not have reached it yet: the archive must not lag the purge). If it cannot be told, nothing
   * is purged and the same request can be tried again (the other way round, a retry found it archived: 409).
   */
  async purge(id: string): Promise<void> {
    const found = await this.find(id, 'purge');
    if (!FINISHED.has(found.view.status)) {
      throw new Conflict(`order ${id} is ${found.view.status}: only a finished order can be purged`);
    }
    await this.projection?.markPurged(id, finalSummaryOf(found.view)).catch((error: unknown) => {
      throw unavailableIfUnreached(
        error,
        `order ${id} was not purged: the order projection is not reachable; try again in a moment`,
      );
    });
    await this.engine.purge(id);
  }

  /** An order the engine no longer knows, as the archive keeps it (read through Dapr: it may not answer). */
  private archived(id: string): Promise<OrderView | undefined> {
    return this.archive.find(id).catch((error: unknown) => {
      throw unavailableIfUnreached(
        error,
        `order ${id} is not in the engine, and its archive is not reachable; try again in a moment`,
      );
    });
  }

  /** Keeps the order's first decision (a create: one wins, also across replicas); 404 or 409 when it cannot be. */
  private async record(id: string, decision: Omit<Decision, 'at'>): Promise<DecisionOutcome> {
    const action = decision.kind === 'cancel' ? 'cancel' : 'approve';
    const found = await this.find(id, action);
    if (FINISHED.has(found.view.status)) {
      throw new Conflict(`order ${id} is ${found.view.status}: there is nothing to ${action}`);
    }
    if (found.input.order.total < APPROVAL_THRESHOLD) {
      throw new Conflict(
        `order ${id} is under $${APPROVAL_THRESHOLD}: it never waits for approval, so there is nothing to ${action}`,
      );
    }
    const key = decisionKey(id);
    // Whether the order waits for the decision as it arrives, or will get it when its wait begins.
    const outcome = found.view.stage === 'waiting_for_approval' ? 'sent' : 'kept';
    if (await createIfAbsent(this.store, key, { ...decision, at: new Date().toISOString() })) return outcome;
    const first = (await this.store.getState<Decision>(key)).value;
    const same =
      first?.kind === decision.kind &&
      first.approved === decision.approved &&
      first.by.toLowerCase() === decision.by.toLowerCase();
    if (!same) {
      throw new Conflict(
        `order ${id} was already ${first ? describeDecision(first) : 'decided'}: the first decision counts`,
      );
    }
    return outcome;
  }
}
