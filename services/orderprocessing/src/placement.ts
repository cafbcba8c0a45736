// Starting an order's workflow once per order id, whatever replica, retry or crash: a small permanent
// claim per id (`order-id:<id>`, create-only) decides who starts it; the engine cannot (Dapr 1.18 quietly
// recreates a *finished* instance whose id is scheduled again). Why and how: docs/architecture.md.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtagMismatch } from '#shared/dapr.ts';
import { Unavailable } from '#shared/errors.ts';
import type { FinalSummary } from '#shared/orderProjection.ts';
import { createIfAbsent, type StateClient } from '#shared/state.ts';
import { EngineUnavailable, type WorkflowGateway } from './engine.ts';
import type { OrderRequest } from './schemas.ts';
import type { OrderInput } from './workflow/orderWorkflow.ts';

/** The claim on an order id: kept for good, so that an id is never placed twice. */
export interface IdClaim {
  /** The Idempotency-Key's request hash, for keyed orders. */
  requestHash?: string;
  /**
   * starting: its owner is starting the workflow; started: the workflow was started. Only a keyed claim is
   * marked started: an order placed without a key keeps `starting`, and nothing waits on it.
   */
  state: 'starting' | 'started';
  /** Which placement attempt owns it (a keyed claim, while `starting`). */
  by?: string;
  /** When it was claimed (ms): the order's creation. */
  at: number;
  /** The order as it was placed. */
  order?: OrderRequest;
  /** How it ended: written by the ending step before the order projection kept it (orders of then). */
  final?: FinalSummary;
}

export const claimKey = (orderId: string) => `order-id:${orderId}`;

/** The outcome of a placement: started by this call, or there already (with the hash it was placed with). */
export type Placement = { placed: true } | { placed: false; requestHash: string | undefined };

/**
 * The engine went away while it was asked to start the order: it may have started it. A client that
 * simply tries again without an Idempotency-Key places a second order, so the answer says so.
 */
export class PlacementUnknown extends Unavailable {
  constructor(readonly orderId: string) {
    super(
      `the workflow engine went away while order ${orderId} was being placed, so it may have been placed: ` +
        `GET /orders/${orderId} tells. Send an Idempotency-Key with a retry, and it can never place a second order.`,
    );
  }
}

export interface PlacementOptions {
  /** How long a claim may stay `starting` before another placement takes it over (its owner is gone). */
  takeoverMs?: number;
  pollMs?: number;
  now?: () => number;
}

export class OrderPlacement {
  private readonly takeoverMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly engine: WorkflowGateway,
    private readonly store: StateClient,
    options: PlacementOptions = {},
  ) {
    this.takeoverMs = options.takeoverMs ?? 5_000;
    this.pollMs = options.pollMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  /** Places the order under `input.orderId` unless that id was claimed before. */
  async place(input: OrderInput): Promise<Placement> {
    const key = claimKey(input.orderId);
    const { requestHash } = input;
    const keyed = requestHash !== undefined;
    const claim: IdClaim = {
      state: 'starting',
      at: this.now(),
      order: input.order,
      ...(keyed ? { by: randomUUID(), requestHash } : {}),
    };
    if (await createIfAbsent(this.store, key, claim)) return this.start(input, claim);
    // Without an Idempotency-Key the id was drawn at random for this placement alone: a claim there is
    // another order's, never this one's to wait on or take over. The caller draws another id.
    if (!keyed) return { placed: false, requestHash: undefined };

    for (;;) {
      const { value: held, etag } = await this.store.getState<IdClaim>(key);
      if (!held) throw new Error(`the claim on order id ${input.orderId} was there and is gone`);
      const there: Placement = { placed: false, requestHash: held.requestHash };
      if (held.requestHash !== input.requestHash || held.state === 'started') return there;
      if (await this.engine.find(input.orderId)) return there;
      if (this.now() - held.at >= this.takeoverMs) {
        // Its owner claimed the id and never started the order: it is gone. One placement takes over.
        const mine: IdClaim = { ...held, by: randomUUID(), at: this.now() };
        const won = await this.store
          .saveState([{ key, value: mine, ...(etag === undefined ? {} : { etag }) }])
          .then(() => true)
          .catch((error: unknown) => {
            if (error instanceof EtagMismatch) return false;
            throw error;
          });
        if (won) return (await this.start(input, mine)).placed ? { placed: true } : there;
      }
      await sleep(this.pollMs);
    }
  }

  /** Starts the workflow this placement owns the claim of, then notes that it did (a keyed claim). */
  private async start(input: OrderInput, claim: IdClaim): Promise<Placement> {
    const keyed = claim.by !== undefined;
    // A placement this slow may have been taken over meanwhile: then the order is the taker's to start.
    if (keyed && this.now() - claim.at > this.takeoverMs / 2) {
      const { value } = await this.store.getState<IdClaim>(claimKey(input.orderId));
      if (value?.by !== claim.by) return { placed: false, requestHash: value?.requestHash };
    }
    const started = await this.engine.start(input).catch((error: unknown) => {
      throw error instanceof EngineUnavailable ? new PlacementUnknown(input.orderId) : error;
    });
    // Only a retry with the same key reads the claim again. Best effort: a claim left `starting` is found
    // started by the next placement of the id (it looks).
    if (keyed) await this.markStarted(input.orderId, claim).catch(() => undefined);
    return started === 'started' ? { placed: true } : { placed: false, requestHash: input.requestHash };
  }

  private async markStarted(orderId: string, claim: IdClaim): Promise<void> {
    const key = claimKey(orderId);
    const { value, etag } = await this.store.getState<IdClaim>(key);
    if (!value || value.by !== claim.by || value.state === 'started') return;
    // A started claim needs no owner any more: it is kept for good, so every byte counts.
    const { by: _owner, ...started } = { ...value, state: 'started' as const };
    await this.store.saveState([{ key, value: started, ...(etag ? { etag } : {}) }]);
  }
}
