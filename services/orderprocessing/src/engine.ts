// The Dapr workflow engine, as the order service sees it: a gateway that starts an order's workflow
// (instance id = order id), reads its state in the API's shape, raises its events and purges it.

import { setTimeout as sleep } from 'node:timers/promises';
import { type WorkflowClient, WorkflowRuntimeStatus } from '#shared/daprSdk.ts';
import { Unavailable } from '#shared/errors.ts';
import { OrderResult, type OrderView } from './schemas.ts';
import {
  APPROVAL_EVENT,
  type ApprovalDecision,
  CANCEL_EVENT,
  type Cancellation,
  type OrderInput,
} from './workflow/orderWorkflow.ts';
import { versionNamed, type WorkflowVersion } from './workflow/versions.ts';

export interface StoredOrder {
  view: OrderView;
  input: OrderInput;
}

/** What the order service needs of the engine; unit tests hand in an in-memory one. */
export interface WorkflowGateway {
  /** Starts the order's workflow; 'exists' when an instance with that id is already there. */
  start(input: OrderInput): Promise<'started' | 'exists'>;
  find(id: string): Promise<StoredOrder | undefined>;
  raiseApproval(id: string, decision: ApprovalDecision): Promise<void>;
  raiseCancel(id: string, cancellation: Cancellation): Promise<void>;
  /** Deletes a finished order's history. */
  purge(id: string): Promise<boolean>;
}

/** The sidecar is down or restarting: worth another try in a moment. */
export class EngineUnavailable extends Unavailable {
  constructor(cause?: unknown) {
    super('the workflow engine is not reachable right now; try again in a moment');
    this.cause = cause;
  }
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** gRPC codes that mean "the sidecar is not there right now". */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const UNKNOWN = 2;

/** The sidecar is away, or says its store failed for a moment ("transient store read failure"). */
const isTransient = (error: unknown) => {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === UNAVAILABLE || code === DEADLINE_EXCEEDED || (code === UNKNOWN && /transient/i.test(String(message)));
};

async function engineCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isTransient(error)) throw new EngineUnavailable(error);
    throw error;
  }
}

/**
 * Reading a workflow or raising its event as it saves a step sometimes meets Dapr 1.18 between two reads of
 * its state ("inbox key … missing from state store (transient …)"), more often on a busy machine: tried
 * again 4 times within 750 ms before it is an answer of 503. A repeated event changes nothing (the
 * workflow takes one decision), and a read changes nothing at all.
 */
async function whileAway<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await engineCall(work);
    } catch (error) {
      if (!(error instanceof EngineUnavailable) || attempt >= 5) throw error;
      await sleep(50 * 2 ** (attempt - 1));
    }
  }
}

export class DaprWorkflowGateway implements WorkflowGateway {
  constructor(
    private readonly client: WorkflowClient,
    /** The version new orders start on. */
    private readonly version: WorkflowVersion,
  ) {}

  async start(input: OrderInput): Promise<'started' | 'exists'> {
    try {
      await engineCall(() => this.client.scheduleNewWorkflow(this.version.name, input, input.orderId));
      return 'started';
    } catch (error) {
      // Dapr refuses to reuse the id of a running instance.
      if (/already exists/i.test((error as Error).message)) return 'exists';
      throw error;
    }
  }

  async find(id: string): Promise<StoredOrder | undefined> {
    const state = await whileAway(() => this.client.getWorkflowState(id, true));
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
        ...(versionNamed(state.name) ? { workflow_version: versionNamed(state.name)?.version } : {}),
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
    await whileAway(() => this.client.raiseEvent(id, APPROVAL_EVENT, decision));
  }

  async raiseCancel(id: string, cancellation: Cancellation): Promise<void> {
    await whileAway(() => this.client.raiseEvent(id, CANCEL_EVENT, cancellation));
  }

  purge(id: string): Promise<boolean> {
    return engineCall(() => this.client.purgeWorkflow(id));
  }
}
