// The payments ledger: one key per order holding its entries, changed with an ETag check, so a charge
// happens once per order and a refund at most once, and only after a charge.
import type { LedgerEntry, PaymentResult } from '#shared/messages.ts';
import { type StateClient, updateState } from '#shared/state.ts';

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

  /** Charges the order once: a repeated charge returns the first one, whatever amount it names. */
  charge(orderId: string, customer: string, amount: number): Promise<PaymentResult> {
    return updateState<OrderLedger, PaymentResult>(this.dapr, ledgerKey(orderId), (ledger = { entries: [] }) => {
      const existing = ledger.entries.find((entry) => entry.kind === 'charge');
      if (existing) return { result: { orderId, entry: existing } };
      const entry: LedgerEntry = { orderId, kind: 'charge', amount, customer, at: this.now().toISOString() };
      return { next: { entries: [...ledger.entries, entry] }, result: { orderId, entry } };
    });
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
