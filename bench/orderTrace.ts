// One auto-approved order's trace as Zipkin holds it once it is whole (issue #22: at most 40 spans, all five
// apps in it). Spans reach Zipkin in batches a little after they end, from every app and sidecar, so the
// trace is read again until its span count has stopped growing for a few seconds.

import { request } from 'undici';
import { type StableOptions, stableSpans, Trace, type ZipkinSpan } from '../test/integration/zipkin.ts';

export { type StableOptions, stableSpans };

/** What the trace of one order holds: its spans counted by service and by (service, name). */
export interface TraceCheck {
  orderId: string;
  traceId: string;
  spans: number;
  /** The services its spans name (localEndpoint.serviceName), sorted. */
  services: string[];
  /** Spans per service and name, most first. */
  byName: { service: string; name: string; count: number }[];
  /** Whether the count held still for the whole quiet time before the deadline. */
  stable: boolean;
  /** From the order's completion to the count holding still, ms. */
  settledAfterMs: number;
}

/** The spans counted per (service, name), most first, then by service and name. */
export function tally(spans: ZipkinSpan[]): TraceCheck['byName'] {
  const counts = new Map<string, { service: string; name: string; count: number }>();
  for (const span of spans) {
    const service = span.localEndpoint?.serviceName ?? '?';
    const key = `${service}\u0000${span.name}`;
    const entry = counts.get(key) ?? { service, name: span.name, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort(
    (a, b) => b.count - a.count || a.service.localeCompare(b.service) || a.name.localeCompare(b.name),
  );
}

/** A trace's spans as Zipkin's API answers them: none while it knows no span of it (404). */
export function zipkinTrace(zipkinUrl: string, traceId: string): () => Promise<ZipkinSpan[]> {
  return async () => {
    const response = await request(`${zipkinUrl}/api/v2/trace/${traceId}`);
    if (response.statusCode === 404) {
      await response.body.dump();
      return [];
    }
    if (response.statusCode !== 200) throw new Error(`Zipkin answered ${response.statusCode} for trace ${traceId}`);
    return (await response.body.json()) as ZipkinSpan[];
  };
}

/** The trace id orderprocessing keeps for a placed order (GET /orders/:id, as its page links it). */
export async function traceIdOf(orderprocessingUrl: string, orderId: string): Promise<string> {
  const response = await request(`${orderprocessingUrl}/orders/${encodeURIComponent(orderId)}`);
  const body = (await response.body.json()) as { trace_id?: string };
  if (response.statusCode !== 200 || !body.trace_id) {
    throw new Error(`GET /orders/${orderId} answered ${response.statusCode} without a trace_id`);
  }
  return body.trace_id;
}

/** The completed order's whole trace, counted. */
export async function checkOrderTrace(
  where: { zipkinUrl: string; orderprocessingUrl: string },
  orderId: string,
  // Longer than a batch: the traced stack sends spans every 5 s, as by default (OTEL_BSP_SCHEDULE_DELAY).
  options: StableOptions = { quietMs: 6_000, everyMs: 500, timeoutMs: 60_000 },
): Promise<TraceCheck> {
  const began = Date.now();
  const traceId = await traceIdOf(where.orderprocessingUrl, orderId);
  const { spans, stable } = await stableSpans(zipkinTrace(where.zipkinUrl, traceId), options);
  const trace = new Trace(spans);
  return {
    orderId,
    traceId,
    spans: spans.length,
    services: [...trace.services()].sort(),
    byName: tally(spans),
    stable,
    settledAfterMs: Date.now() - began - (stable ? options.quietMs : 0),
  };
}
