// The order projection as orderprocessing reads it: built by the notifications service from topic
// `notifications` (one projection for GET /orders, the watchdog and the page), asked through Dapr service
// invocation. This service tells it only what no event says: an order purged, or ended through Dapr
// directly. Messages: #shared/orderProjection.ts; routes: notifications' projectionRoutes.ts.
import { DaprError, type DaprHttpClient } from '#shared/dapr.ts';
import { Unavailable } from '#shared/errors.ts';
import type {
  FinalSummary,
  IndexedOrder,
  IndexedStatus,
  ListPage,
  ListRequest,
  PurgedRequest,
  RunningEntry,
} from '#shared/orderProjection.ts';

/**
 * A call through Dapr that did not get through (the projection, the state store or a sidecar between did
 * not answer) becomes a 503 with `message`, worth another try, its cause logged; anything else stays as it is.
 */
export function unavailableIfUnreached(error: unknown, message: string): unknown {
  if (!(error instanceof DaprError) && (error as { code?: unknown }).code === undefined) return error;
  const problem = new Unavailable(message);
  problem.cause = error;
  return problem;
}

/** What orderprocessing asks of the projection; tests hand in one of their own. */
export interface OrderProjection {
  list(request: ListRequest): Promise<ListPage>;
  find(id: string): Promise<IndexedOrder | undefined>;
  /** How the order ended, kept for good: the archive of an order whose history is purged. */
  final(id: string): Promise<FinalSummary | undefined>;
  /** Every entry of the running set. */
  runningOrders(): Promise<Array<[string, RunningEntry]>>;
  /** Drops a stale running-set entry, or sets it anew from the record. */
  repairRunning(id: string): Promise<void>;
  /** An end the engine knows of and no step announced: the record gets the engine's status. */
  markEnded(id: string, status: Exclude<IndexedStatus, 'RUNNING'>, at: number): Promise<void>;
  /** Its history is purged: the list leaves it out, the watchdog forgets it, and `final` is kept unless one is. */
  markPurged(id: string, final?: FinalSummary): Promise<void>;
}

/** The projection behind notifications' sidecar. */
export class SidecarOrderProjection implements OrderProjection {
  constructor(
    private readonly sidecar: Pick<DaprHttpClient, 'invoke'>,
    private readonly appId = 'notifications',
  ) {}

  list(request: ListRequest): Promise<ListPage> {
    return this.sidecar.invoke<ListPage>(this.appId, 'projection/list', request);
  }

  async find(id: string): Promise<IndexedOrder | undefined> {
    const answer = await this.get<{ order: IndexedOrder | null }>(`projection/orders/${id}`);
    return answer.order ?? undefined;
  }

  async final(id: string): Promise<FinalSummary | undefined> {
    return (await this.get<{ final: FinalSummary | null }>(`projection/orders/${id}/final`)).final ?? undefined;
  }

  async runningOrders(): Promise<Array<[string, RunningEntry]>> {
    return (await this.get<{ orders: Array<[string, RunningEntry]> }>('projection/running')).orders;
  }

  async repairRunning(id: string): Promise<void> {
    await this.sidecar.invoke(this.appId, `projection/orders/${id}/repair`, {});
  }

  async markEnded(id: string, status: Exclude<IndexedStatus, 'RUNNING'>, at: number): Promise<void> {
    await this.sidecar.invoke(this.appId, `projection/orders/${id}/ended`, { status, at });
  }

  async markPurged(id: string, final?: FinalSummary): Promise<void> {
    const request: PurgedRequest = final ? { final } : {};
    await this.sidecar.invoke(this.appId, `projection/orders/${id}/purged`, request);
  }

  private get<T>(method: string): Promise<T> {
    return this.sidecar.invoke<T>(this.appId, method, undefined, { httpMethod: 'GET' });
  }
}
