// The payments ledger: one key per order holding its entries, changed with an ETag check, so a charge
// happens once per order and a refund at most once, and only after a charge. A refund that finds no charge
// voids the order instead, so that a charge still on its way (slower than the workflow's retries) is
// refused when it lands rather than kept.
import { Conflict } from '#shared/errors.ts';
import type { LedgerEntry, PaymentResult } from '#shared/messages.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';

interface OrderLedger {
  entries: LedgerEntry[];
  /** When a refund found nothing to refund: no charge is taken from then on. */
  voidedAt?: string;
}

const ledgerKey = (orderId: string) => `ledger:${orderId}`;

/** A charge of an order whose refund came first: nothing is charged. */
export class ChargeVoided extends Conflict {
  constructor(orderId: string, voidedAt: string) {
    super(`order ${orderId} was voided at ${voidedAt} (refunded before it was charged): it is not charged`);
  }
}

export class Ledger {
  constructor(
    private readonly dapr: StateClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async ledger(orderId: string): Promise<OrderLedger> {
    return (await this.dapr.getState<OrderLedger>(ledgerKey(orderId))).value ?? { entries: [] };
  }

  async entries(orderId: string): Promise<LedgerEntry[]> {
    return (await this.ledger(orderId)).entries;
  }

  /**
   * Charges the order once: a repeat returns the first one, whatever amount it names. A charge is
   * always a ledger's first entry, so the first charge is a create-only write (one call to the sidecar);
   * a repeat finds the ledger there and returns its charge, and a charge after a void is refused.
   */
  async charge(orderId: string, customer: string, amount: number): Promise<PaymentResult> {
    const entry: LedgerEntry = { orderId, kind: 'charge', amount, customer, at: this.now().toISOString() };
    const ledger: OrderLedger = { entries: [entry] };
    if (await createIfAbsent(this.dapr, ledgerKey(orderId), ledger)) return { orderId, entry };
    const existing = await this.ledger(orderId);
    const charged = existing.entries.find((each) => each.kind === 'charge');
    if (charged) return { orderId, entry: charged };
    if (existing.voidedAt) throw new ChargeVoided(orderId, existing.voidedAt);
    throw new Error(`the ledger of ${orderId} exists but holds no charge`);
  }

  /** Refunds the order's charge once; with no charge there is nothing to refund (entry null): it is voided. */
  refund(orderId: string): Promise<PaymentResult> {
    return updateState<OrderLedger, PaymentResult>(this.dapr, ledgerKey(orderId), (ledger = { entries: [] }) => {
      const existing = ledger.entries.find((entry) => entry.kind === 'refund');
      if (existing) return { result: { orderId, entry: existing } };
      const charge = ledger.entries.find((entry) => entry.kind === 'charge');
      if (!charge) {
        const voided = { orderId, entry: null, voided: true };
        if (ledger.voidedAt) return { result: voided };
        return { next: { entries: [], voidedAt: this.now().toISOString() }, result: voided };
      }
      const entry: LedgerEntry = { ...charge, kind: 'refund', at: this.now().toISOString() };
      return { next: { entries: [...ledger.entries, entry] }, result: { orderId, entry } };
    });
  }
}
