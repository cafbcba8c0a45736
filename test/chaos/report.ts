// The checks of a chaos run and its report. Every order must reach the end its kind calls for, the
// ledger must be exact, stock conserved, each timeline step shown once, GET /orders must list it as it
// ended (the order projection, fed by pub/sub, survived the kills), and no order may exist that the
// run did not place. When a stock count is off, the report names the orders behind it: every order that
// asked for that item, what its reservation record says and how it ended.
import type { ChaosClient } from './client.ts';
import type { Kind, PlannedOrder } from './plan.ts';

export const EXPECTED_STEPS: Record<Kind, string[]> = {
  auto: ['received', 'stock_reserved', 'paid', 'shipped'],
  approved: ['received', 'stock_reserved', 'waiting_for_approval', 'approved', 'paid', 'shipped'],
  rejected: ['received', 'stock_reserved', 'waiting_for_approval', 'rejected'],
  shippingFailure: [
    'received',
    'stock_reserved',
    'waiting_for_approval',
    'approved',
    'paid',
    'shipping_failed',
    'compensated',
  ],
};
export const EXPECTED_LEDGER: Record<Kind, string[]> = {
  auto: ['charge'],
  approved: ['charge'],
  rejected: [],
  shippingFailure: ['charge', 'refund'],
};
const keepsStock = (kind: Kind) => kind === 'auto' || kind === 'approved';
/** What an order's reservation record must say at its end: held by the orders that keep their stock. */
const expectedReservation = (kind: Kind) => (keepsStock(kind) ? 'reserved' : 'released');

/** What the stack says of one order at the end of the run. */
export interface OrderOutcome {
  id: string;
  /** undefined: an order this run did not place. */
  planned?: PlannedOrder;
  customer: string;
  status: string;
  stage?: string;
  success?: boolean;
  ledger: string[];
  steps: string[];
  /** The reservation record's status, or 'none'. */
  reservation: string;
  /** Shipping holds a shipment for it. */
  shipped: boolean;
  reservedItems: string[];
  /** How GET /orders lists it: status and last step, or undefined when it is not listed. */
  listed?: { status: string; lastStep: string };
}

export interface ChaosReport {
  seed: number;
  orders: number;
  /** Replicas of each app. */
  replicas: Record<string, number>;
  kills: Record<string, number>;
  /** The services that had a rolling restart. */
  rolled: string[];
  recoveriesMs: number[];
  retriedPosts: number;
  wallMs: number;
  problems: string[];
}

interface OrderView {
  status: string;
  stage?: string;
  details?: { customer: string; items: string[] };
  order_result?: { success: boolean };
}

async function reservationOf(client: ChaosClient, id: string) {
  const answer = await client.call<{ status?: string; items?: string[] }>('inventory', `/inventory/reservations/${id}`);
  return answer.status === 200
    ? { reservation: answer.body.status ?? '?', reservedItems: answer.body.items ?? [] }
    : { reservation: 'none', reservedItems: [] };
}

/** Reads what the stack says of every order: those the run placed, and any other it knows of. */
export async function collectOutcomes(
  client: ChaosClient,
  planned: { order: PlannedOrder; id: string }[],
  waitForSteps: (id: string, count: number) => Promise<string[]>,
): Promise<OrderOutcome[]> {
  const plannedIds = new Set(planned.map(({ id }) => id));
  const listed = await client.listOrders();
  const strangers = listed.filter((order) => !plannedIds.has(order.id)).map((order) => ({ id: order.id }));
  const outcomes: OrderOutcome[] = [];
  for (const { id, order } of [...planned, ...strangers] as { id: string; order?: PlannedOrder }[]) {
    const view = (await client.call<OrderView>('orderprocessing', `/orders/${id}`)).body;
    const ledger = await client.call<{ entries: { kind: string }[] }>('payments', `/payments/${id}`);
    const steps = await waitForSteps(id, order ? EXPECTED_STEPS[order.kind].length : 0);
    outcomes.push({
      id,
      ...(order ? { planned: order } : {}),
      customer: view.details?.customer ?? '?',
      status: view.status,
      ...(view.stage ? { stage: view.stage } : {}),
      ...(view.order_result ? { success: view.order_result.success } : {}),
      ledger: ledger.body.entries.map((entry) => entry.kind),
      steps,
      shipped: (await client.call('shipping', `/shipping/${id}`)).status === 200,
      ...(await reservationOf(client, id)),
    });
  }
  // Read again now that every timeline is whole: the same deliveries wrote the list.
  const listedNow = new Map((await client.listOrders()).map((order) => [order.id, order]));
  for (const outcome of outcomes) {
    const listed = listedNow.get(outcome.id);
    if (listed) outcome.listed = { status: listed.status, lastStep: listed.last_step };
  }
  return outcomes;
}

const describe = (outcome: OrderOutcome) =>
  `${outcome.id} (${outcome.planned?.kind ?? 'not placed by this run'}): reservation ${outcome.reservation}` +
  `${outcome.reservedItems.length ? ` [${outcome.reservedItems}]` : ''}, order ${outcome.status}` +
  `${outcome.stage ? ` at ${outcome.stage}` : ''}${outcome.success === undefined ? '' : `, success ${outcome.success}`}`;

/** Every problem found; an empty list means nothing was lost and nothing doubled. */
export function findProblems(
  outcomes: OrderOutcome[],
  stock: Record<string, number>,
  initialStock: Record<string, number>,
): string[] {
  const problems: string[] = [];
  const consumed: Record<string, number> = {};
  for (const outcome of outcomes) {
    const { planned, id } = outcome;
    if (!planned) {
      problems.push(`${describe(outcome)}: an order this run did not place`);
      continue;
    }
    const wantStatus = planned.kind === 'shippingFailure' ? 'FAILED' : 'COMPLETED';
    if (outcome.status !== wantStatus) problems.push(`${id} (${planned.kind}) is ${outcome.status}, not ${wantStatus}`);
    if (wantStatus === 'COMPLETED' && outcome.success !== keepsStock(planned.kind)) {
      problems.push(`${id} (${planned.kind}) success is ${outcome.success}`);
    }
    if (keepsStock(planned.kind)) for (const item of planned.items) consumed[item] = (consumed[item] ?? 0) + 1;
    const wantLedger = EXPECTED_LEDGER[planned.kind];
    if (outcome.ledger.join() !== wantLedger.join()) {
      problems.push(`${id} (${planned.kind}) ledger is [${outcome.ledger}], not [${wantLedger}]`);
    }
    if (outcome.reservation !== expectedReservation(planned.kind)) {
      problems.push(
        `${id} (${planned.kind}) reservation is ${outcome.reservation}, not ${expectedReservation(planned.kind)}`,
      );
    }
    if (outcome.shipped !== keepsStock(planned.kind)) {
      problems.push(`${id} (${planned.kind}) ${outcome.shipped ? 'was shipped' : 'has no shipment'}`);
    }
    const wantSteps = EXPECTED_STEPS[planned.kind];
    if ([...outcome.steps].sort().join() !== [...wantSteps].sort().join()) {
      problems.push(`${id} (${planned.kind}) timeline is [${outcome.steps}], not [${wantSteps}]`);
    }
    const wantListed = { status: wantStatus, lastStep: wantSteps.at(-1) };
    if (outcome.listed?.status !== wantListed.status || outcome.listed.lastStep !== wantListed.lastStep) {
      const listed = outcome.listed ? `${outcome.listed.status} at ${outcome.listed.lastStep}` : 'not listed';
      problems.push(`${id} (${planned.kind}) is ${listed} in GET /orders, not ${wantStatus} at ${wantListed.lastStep}`);
    }
  }
  for (const [item, initial] of Object.entries(initialStock)) {
    const want = initial - (consumed[item] ?? 0);
    if (stock[item] === want) continue;
    problems.push(`stock of ${item} is ${stock[item]}, not ${initial} − ${consumed[item] ?? 0} = ${want}; its orders:`);
    for (const outcome of outcomes) {
      const asked = outcome.planned?.items ?? outcome.reservedItems;
      if (asked.includes(item)) problems.push(`  ${describe(outcome)}`);
    }
  }
  return problems;
}

export function formatReport(report: ChaosReport, plannedKinds: Kind[]): string {
  const byKind = ['auto', 'approved', 'rejected', 'shippingFailure'].map(
    (kind) => `${plannedKinds.filter((k) => k === kind).length} ${kind}`,
  );
  const kills = Object.entries(report.kills).map(([name, count]) => `${name} ×${count}`);
  const recoveries = report.recoveriesMs.map((ms) => `${(ms / 1000).toFixed(1)} s`);
  return [
    `chaos report (seed ${report.seed})`,
    `  orders: ${report.orders} (${byKind.join(', ')})`,
    `  replicas: ${Object.entries(report.replicas)
      .map(([appId, count]) => `${appId} ×${count}`)
      .join(', ')}`,
    `  kills: ${kills.join(', ') || 'none'}`,
    ...(report.rolled.length > 0 ? [`  rolling restarts: ${report.rolled.join(', ')}`] : []),
    `  recovery (restart to healthy): ${recoveries.join(', ') || '-'}`,
    `  POSTs tried again: ${report.retriedPosts}`,
    `  wall time: ${(report.wallMs / 1000).toFixed(1)} s`,
    `  problems: ${report.problems.length === 0 ? 'none: nothing lost, nothing doubled' : `\n    ${report.problems.join('\n    ')}`}`,
  ].join('\n');
}
