// The payments ledger: one key per order holding its entries, changed with an ETag check, so a charge
// happens once per order and a refund at most once, and only after a charge.
import type { LedgerEntry, PaymentResult } from '#shared/messages.ts';
import { createIfAbsent, type StateClient, updateState } from '#shared/state.ts';

interface OrderLedger {
  entries: LedgerEntry[];
}

const ledgerKey = (orderId: string) => `ledger:${orderId}`;

export class Ledger {
  constructor(
    private readonly dapr: StateClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async entries(orderId: string): Promise<LedgerEntry[]> {
    return (await this.dapr.getState<OrderLedger>(ledgerKey(orderId))).value?.entries ?? [];
  }

  /**
   * Charges the order once: a repeated charge returns the first one, whatever amount it names. A charge is
   * always a ledger's first entry, so the first charge is a create-only write (one call to the sidecar);
   * a repeat finds the ledger there and returns its charge.
   */
  async charge(orderId: string, customer: string, amount: number): Promise<PaymentResult> {
    const entry: LedgerEntry = { orderId, kind: 'charge', amount, customer, at: this.now().toISOString() };
    const ledger: OrderLedger = { entries: [entry] };
    if (await createIfAbsent(this.dapr, ledgerKey(orderId), ledger)) return { orderId, entry };
    const charged = (await this.entries(orderId)).find((existing) => existing.kind === 'charge');
    if (!charged) throw new Error(`the ledger of ${orderId} exists but holds no charge`);
    return { orderId, entry: charged };
  }

  /** Refunds the order's charge once; with no charge there is nothing to refund (entry null). */
  refund(orderId: string): Promise<PaymentResult> {
    return updateState<OrderLedger, PaymentResult>(this.dapr, ledgerKey(orderId), (ledger = { entries: [] }) => {
      const existing = ledger.entries.find((entry) => entry.kind === 'refund');
      if (existing) return { result: { orderId, entry: existing } };
      const charge = ledger.entries.find((entry) => entry.kind === 'charge');
      if (!charge) return { result: { orderId, entry: null } };
      const entry: LedgerEntry = { ...charge, kind: 'refund', at: this.now().toISOString() };
      return { next: { entries: [...ledger.entries, entry] }, result: { orderId, entry } };
    });
  }
}
