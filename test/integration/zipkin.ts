// The order's trace as the tests read it from the stack's private Zipkin, through its API: Zipkin's search
// by the order's id, and the spans of a trace with their parents. tracing.test.ts checks the trace itself,
// logs.test.ts follows it to the log lines the order's requests wrote.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, inject } from 'vitest';

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  timestamp: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
  /** A span's events (OpenTelemetry's), by name and time. */
  annotations?: { timestamp: number; value: string }[];
}

export class Trace {
  constructor(readonly spans: ZipkinSpan[]) {}

  named(name: string): ZipkinSpan[] {
    return this.spans.filter((span) => span.name === name);
  }

  one(name: string): ZipkinSpan {
    const found = this.named(name);
    if (found.length !== 1) throw new Error(`${found.length} spans named ${name}: ${this.summary()}`);
    return found[0] as ZipkinSpan;
  }

  /** The span, its parent, its parent's parent … up to the root. */
  ancestry(span: ZipkinSpan): ZipkinSpan[] {
    const byId = new Map(this.spans.map((s) => [s.id, s]));
    const chain = [span];
    for (let at = span; at.parentId && byId.has(at.parentId); ) {
      at = byId.get(at.parentId) as ZipkinSpan;
      chain.push(at);
    }
    return chain;
  }

  /** Whether `span` hangs (directly or further down) under a span named `ancestor`. */
  isUnder(span: ZipkinSpan, ancestor: string): boolean {
    return this.ancestry(span).some((s) => s !== span && s.name === ancestor);
  }

  services(): Set<string> {
    return new Set(this.spans.map((span) => span.localEndpoint?.serviceName ?? ''));
  }

  summary(): string {
    return [...new Set(this.spans.map((span) => `${span.localEndpoint?.serviceName}:${span.name}`))].join(', ');
  }
}

export const zipkin = () => inject('zipkinUrl');

/**
 * The order's trace as Zipkin's search by its id finds it (`order.id=<id>` among the tags of
 * orderprocessing's spans). Spans arrive in batches (every few seconds from each app and sidecar), so this
 * asks again until `complete` holds. The search must find this order and nothing else: every trace it
 * answers names the order (its own, and those of requests about it such as GET /orders/:id), and the
 * one rooted in POST /orders is the order's.
 */
export async function orderTrace(
  orderId: string,
  traceId: string,
  complete: (trace: Trace) => boolean,
): Promise<Trace> {
  const query = new URLSearchParams({ serviceName: 'orderprocessing', annotationQuery: `order.id=${orderId}` });
  const deadline = Date.now() + 30_000;
  let last = new Trace([]);
  while (Date.now() < deadline) {
    const response = await fetch(`${zipkin()}/api/v2/traces?${query}&limit=100`);
    expect(response.status).toBe(200);
    const found = ((await response.json()) as ZipkinSpan[][]).map((spans) => new Trace(spans));
    last = found.find((trace) => trace.spans[0]?.traceId === traceId) ?? new Trace([]);
    if (complete(last)) {
      for (const trace of found)
        expect(trace.spans.flatMap((span) => span.tags?.['order.id'] ?? [])).toContain(orderId);
      const placed = found.filter((trace) => trace.named('post /orders').length > 0);
      expect(placed.map((trace) => trace.spans[0]?.traceId)).toEqual([traceId]);
      return last;
    }
    await sleep(500);
  }
  throw new Error(`the trace of ${orderId} did not complete in Zipkin within 30 s: ${last.summary()}`);
}

/** Complete once the trace has a span of each name. */
export const hasAll =
  (...names: string[]) =>
  (trace: Trace) =>
    names.every((name) => trace.named(name).length > 0);

export interface StableOptions {
  /** How long the count must hold still. */
  quietMs: number;
  everyMs: number;
  timeoutMs: number;
}

/**
 * Reads the spans until their count is above 0 and has not changed for `quietMs`, or the time runs out;
 * resolves to the last read and whether it held still.
 */
export async function stableSpans(
  read: () => Promise<ZipkinSpan[]>,
  options: StableOptions,
): Promise<{ spans: ZipkinSpan[]; stable: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  let spans = await read();
  let since = Date.now();
  for (;;) {
    if (spans.length > 0 && Date.now() - since >= options.quietMs) return { spans, stable: true };
    if (Date.now() >= deadline) return { spans, stable: false };
    await sleep(options.everyMs);
    const again = await read();
    if (again.length !== spans.length) since = Date.now();
    spans = again;
  }
}

/**
 * The whole trace, once it stops growing: complete by `complete`, then no new span for `quietMs` (the test
 * stack's apps and sidecars send theirs every 200 ms), for a test that counts its spans.
 */
export async function settledTrace(
  orderId: string,
  traceId: string,
  complete: (trace: Trace) => boolean,
  quietMs = 1_500,
): Promise<Trace> {
  await orderTrace(orderId, traceId, complete);
  const read = async () => (await (await fetch(`${zipkin()}/api/v2/trace/${traceId}`)).json()) as ZipkinSpan[];
  const { spans, stable } = await stableSpans(read, { quietMs, everyMs: 250, timeoutMs: 30_000 });
  if (!stable) throw new Error(`the trace of ${orderId} was still growing after 30 s: ${spans.length} spans`);
  return new Trace(spans);
}
