// What a chaos run does, decided up front from its seed: the orders (kind, items, the pause before each)
// and the kills (which process, when, for how long). Two generators, one for each, so that the kill
// schedule does not depend on how fast the orders went in; a seed repeats both, as far as the timing of
// the processes allows.

export type Kind = 'auto' | 'approved' | 'rejected' | 'shippingFailure';
export const KINDS: readonly Kind[] = ['auto', 'approved', 'rejected', 'shippingFailure'];

export interface Target {
  appId: string;
  /** The app process, its daprd, or both at once (a whole replica, as a pod dies). */
  part: 'app' | 'daprd' | 'replica';
}

/** Every kind of process a run kills: each of them at least once when there are enough kills. */
export const KILL_TARGETS: readonly Target[] = [
  { appId: 'orderprocessing', part: 'app' },
  { appId: 'orderprocessing', part: 'daprd' },
  { appId: 'inventory', part: 'app' },
  { appId: 'inventory', part: 'daprd' },
  { appId: 'payments', part: 'app' },
  { appId: 'shipping', part: 'app' },
  { appId: 'notifications', part: 'app' },
];

/**
 * The kinds of target for a run whose apps have these replica counts: an app with replicas loses a whole
 * replica (app and daprd, as a pod dies), one without loses its app process; orderprocessing's and
 * inventory's sidecars also die alone.
 */
export function targetsFor(replicas: Record<string, number>): Target[] {
  const apps = ['orderprocessing', 'inventory', 'payments', 'shipping', 'notifications'];
  return [
    ...apps.map((appId): Target => ({ appId, part: (replicas[appId] ?? 1) > 1 ? 'replica' : 'app' })),
    { appId: 'orderprocessing', part: 'daprd' },
    { appId: 'inventory', part: 'daprd' },
  ];
}

export const targetName = ({ appId, part }: Target) => `${appId} ${part}`;

export interface PlannedOrder {
  n: number;
  kind: Kind;
  customer: string;
  items: string[];
  total: number;
  /** Sent as Idempotency-Key: a retried POST whose answer was lost names the same order. */
  idempotencyKey: string;
  /** Pause after placing it, before the next. */
  pauseMs: number;
}

export interface PlannedKill {
  /** When to kill, from the start of the run (later if the previous restart is still under way). */
  atMs: number;
  target: Target;
  /** Which replica of the app (0 with one replica). */
  replica: number;
  /** How long the process stays down before it is started again. */
  downMs: number;
}

/** A small seeded generator (a linear congruential one), so that a run can be repeated. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

export function planOrders(seed: number, count: number): PlannedOrder[] {
  const rand = seeded(seed);
  return Array.from({ length: count }, (_, n) => {
    const kind = KINDS[n % KINDS.length] as Kind;
    const big = kind !== 'auto';
    return {
      n,
      kind,
      customer: `chaos${n}`,
      items: big ? ['iPhone', 'apples'] : ['milk', 'bread'],
      total: big ? 1500 : 9.5,
      idempotencyKey: `chaos-${seed}-${n}`,
      pauseMs: Math.round(50 + rand() * 250),
    };
  });
}

/**
 * The kills, 1 to 3 s apart, each down for 0.3 to 1.5 s. With at least as many kills as targets, the
 * first ones go through every target once in a shuffled order, so that each run kills each kind.
 */
export function planKills(
  seed: number,
  count: number,
  targets: readonly Target[] = KILL_TARGETS,
  replicasOf: (appId: string) => number = () => 1,
): PlannedKill[] {
  const rand = seeded(seed ^ 0x5bd1e995);
  const between = (low: number, high: number) => Math.round(low + rand() * (high - low));
  const shuffled = [...targets];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as Target, shuffled[i] as Target];
  }
  const kills: PlannedKill[] = [];
  let atMs = 0;
  for (let n = 0; n < count; n++) {
    atMs += between(1000, 3000);
    const target =
      count >= targets.length && n < shuffled.length ? shuffled[n] : targets[Math.floor(rand() * targets.length)];
    const replica = Math.floor(rand() * replicasOf((target as Target).appId));
    kills.push({ atMs, target: target as Target, replica, downMs: between(300, 1500) });
  }
  return kills;
}
