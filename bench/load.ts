// A closed-loop load phase: `concurrency` workers, each starting one item (an order, a floor workflow)
// as soon as its previous one is done, until the phase's time or count runs out; then the phase waits
// for what is in flight. Latency is measured per item from its start to its completion being observed.

import { performance } from 'node:perf_hooks';

/** The engine's floor, the floor plus an order's Dapr calls (bench/floor.ts), or orders. */
export type PhaseKind = 'floor' | 'calls' | 'orders';

export interface PhaseSpec {
  name: string;
  kind: PhaseKind;
  concurrency: number;
  /** No new item starts after this long. */
  durationMs: number;
  /** Nor after this many. */
  maxCount: number;
  /** Counted, but left out of the results (warm-up). */
  warmUp?: boolean;
  /** Which round of the run it belongs to, from 1 (0: the warm-up before the rounds). */
  round: number;
}

export interface PhaseResult {
  name: string;
  kind: PhaseKind;
  concurrency: number;
  warmUp: boolean;
  round: number;
  /** Wall time from the first start to the last completion, in seconds. */
  seconds: number;
  completed: number;
  errors: number;
  /** Up to five distinct error messages, with how often each occurred. */
  errorSamples: { message: string; count: number }[];
  /** Over the successful items, in milliseconds. */
  latency: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Successful items per second of wall time. */
  perSecond: number;
  aborted: boolean;
}

export interface Progress {
  phase: string;
  elapsedMs: number;
  completed: number;
  inFlight: number;
  errors: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? 0;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runPhase(
  spec: PhaseSpec,
  one: (index: number) => Promise<unknown>,
  options: {
    signal: AbortSignal;
    onProgress: (progress: Progress) => void;
    /** An item not done by then is an error, whatever it waits on (a call without a deadline too). */
    itemTimeoutMs: number;
    progressEveryMs?: number;
  },
): Promise<PhaseResult> {
  const latencies: number[] = [];
  const errorCounts = new Map<string, number>();
  let errors = 0;
  let started = 0;
  let inFlight = 0;
  const begin = performance.now();
  const deadline = begin + spec.durationMs;
  let lastFinish = begin;

  const report = () =>
    options.onProgress({
      phase: spec.name,
      elapsedMs: performance.now() - begin,
      completed: latencies.length,
      inFlight,
      errors,
    });
  const ticker = setInterval(report, options.progressEveryMs ?? 2000);

  const worker = async () => {
    while (!options.signal.aborted && started < spec.maxCount && performance.now() < deadline) {
      const index = started++;
      inFlight++;
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not done within ${options.itemTimeoutMs / 1000} s`)),
          options.itemTimeoutMs,
        );
      });
      try {
        await Promise.race([one(index), timedOut]);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        const message = (error instanceof Error ? error.message : String(error)).slice(0, 200);
        errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
      } finally {
        clearTimeout(timer);
        inFlight--;
        lastFinish = performance.now();
      }
    }
  };

  const aborted = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: spec.concurrency }, worker)), aborted]);
  } finally {
    clearInterval(ticker);
  }
  report();

  const sorted = [...latencies].sort((a, b) => a - b);
  const seconds = (lastFinish - begin) / 1000;
  return {
    name: spec.name,
    kind: spec.kind,
    concurrency: spec.concurrency,
    warmUp: spec.warmUp ?? false,
    round: spec.round,
    seconds: round(seconds),
    completed: latencies.length,
    errors,
    errorSamples: [...errorCounts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([message, count]) => ({ message, count })),
    latency: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? 0),
      mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
    },
    perSecond: seconds > 0 ? round(latencies.length / seconds) : 0,
    aborted: options.signal.aborted,
  };
}
