// Orders as the API sees them, kept by the Dapr workflow engine: placing one schedules a workflow
// instance whose id is the order id; reading one maps the instance's state to the API's shape.

import type { DaprWorkflowClient } from '@dapr/dapr';
import { HttpProblem } from '#shared/http.ts';
import { OrderResult, type OrderView } from './schemas.ts';
import {
  APPROVAL_EVENT,
  type ApprovalDecision,
  CANCEL_EVENT,
  type Cancellation,
  ORDER_WORKFLOW,
  type OrderInput,
} from './workflow/orderWorkflow.ts';
import { WorkflowRuntimeStatus } from './workflow/sdk.ts';

export interface StoredOrder {
  view: OrderView;
  input: OrderInput;
}

/** What the routes need from the engine; unit tests hand in an in-memory one. */
export interface OrderBook {
  /** Starts the order's workflow; 'exists' when an instance with that id is already there. */
  place(input: OrderInput): Promise<'placed' | 'exists'>;
  find(id: string): Promise<StoredOrder | undefined>;
  raiseApproval(id: string, decision: ApprovalDecision): Promise<void>;
  raiseCancel(id: string, cancellation: Cancellation): Promise<void>;
  /** Deletes a finished order's history, so that its id is free again. */
  purge(id: string): Promise<boolean>;
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** gRPC codes that mean "the sidecar is not there right now": the caller may try again. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** A sidecar that is down or restarting answers 503 with a clear message, not a 500. */
async function engineCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) {
      throw new HttpProblem(503, 'the workflow engine is not reachable right now; try again in a moment');
    }
    throw error;
  }
}

export class WorkflowOrderBook implements OrderBook {
  constructor(private readonly client: DaprWorkflowClient) {}

  async place(input: OrderInput): Promise<'placed' | 'exists'> {
    try {
      await engineCall(() => this.client.scheduleNewWorkflow(ORDER_WORKFLOW, input, input.orderId));
      return 'placed';
    } catch (error) {
      // Dapr refuses to reuse an instance id until it is purged: the order is already there.
      if (/already exists/i.test((error as Error).message)) return 'exists';
      throw error;
    }
  }

  async find(id: string): Promise<StoredOrder | undefined> {
    const state = await engineCall(() => this.client.getWorkflowState(id, true));
    if (!state) return undefined;
    const input = parseJson<OrderInput>(state.serializedInput);
    if (!input?.order) return undefined;
    const status = WorkflowRuntimeStatus[state.runtimeStatus] as OrderView['status'];
    const failure = state.workflowFailureDetails;
    const stage = parseJson<string>(state.customStatus);
    const result = OrderResult.safeParse(parseJson(state.serializedOutput));
    return {
      input,
      view: {
        id,
        status,
        ...(stage ? { stage } : {}),
        created_time: state.createdAt.toISOString(),
        last_updated_time: state.lastUpdatedAt.toISOString(),
        details: input.order,
        ...(status === 'COMPLETED' && result.success ? { order_result: result.data } : {}),
        ...(failure
          ? {
              failure_details: {
                error_type: failure.getErrorType(),
                message: failure.getErrorMessage(),
                stack_trace: failure.getStackTrace(),
              },
            }
          : {}),
      },
    };
  }

  async raiseApproval(id: string, decision: ApprovalDecision): Promise<void> {
    await engineCall(() => this.client.raiseEvent(id, APPROVAL_EVENT, decision));
  }

  async raiseCancel(id: string, cancellation: Cancellation): Promise<void> {
    await engineCall(() => this.client.raiseEvent(id, CANCEL_EVENT, cancellation));
  }

  purge(id: string): Promise<boolean> {
    return engineCall(() => this.client.purgeWorkflow(id));
  }
}
