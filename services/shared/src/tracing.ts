// What the services use of tracing, on the OpenTelemetry API only (a no-op when the SDK is not started:
// unit tests, OTEL_SDK_DISABLED=true). The SDK itself is started by instrument.ts, preloaded by dapr.yaml.
import {
  type Attributes,
  isSpanContextValid,
  ProxyTracerProvider,
  type SpanContext,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { IdGenerator, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

/** The standard switch of the OpenTelemetry SDKs: tracing is off for this process. */
export const tracingDisabled = (env: NodeJS.ProcessEnv = process.env) =>
  env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';

/** A W3C `traceparent` header value: version, trace id, parent span id, flags. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function toTraceparent(context: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
}

/** The span context of the span that is running now, when it is recorded (sampled); else undefined. */
export function sampledSpanContext(): SpanContext | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return undefined;
  return context.traceFlags & TraceFlags.SAMPLED ? context : undefined;
}

/**
 * `bytes` random bytes as hex, never all zeros (an invalid id). Ids need to be unique, not unguessable, so
 * Math.random will do, at a fraction of the cost of `crypto.randomBytes` (docs/architecture.md).
 */
function randomId(bytes: 8 | 16): string {
  let id = '';
  for (let word = 0; word < bytes / 4; word++) {
    id += Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  }
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}

/**
 * Span ids, random as usual, except that a span can be given an id chosen in advance: the order
 * workflow's span is written when the order ends, hours after its activities, which must name it as
 * their parent from the start.
 */
export class PresetSpanIds implements IdGenerator {
  private preset: string | undefined;

  generateTraceId(): string {
    return randomId(16);
  }

  generateSpanId(): string {
    const preset = this.preset;
    this.preset = undefined;
    return preset ?? randomId(8);
  }

  /** Runs `start` (which starts one span, synchronously) so that that span gets `spanId`. */
  withSpanId<T>(spanId: string, start: () => T): T {
    this.preset = spanId;
    try {
      return start();
    } finally {
      this.preset = undefined;
    }
  }
}

/** Per-process values every copy of this module shares (instrument.js and the service's bundle each hold one). */
const slots = globalThis as Record<symbol, unknown>;
const SPAN_IDS = Symbol.for('dapr-orders.spanIds');

/**
 * The one id generator of this process's tracer provider (see instrument.ts). Kept on globalThis: the
 * preloaded instrument.js and the service's own bundle each hold a copy of this module, and a span id
 * preset through the service's copy must reach the generator the provider uses.
 */
export const spanIds: PresetSpanIds = (() => {
  const ids = (slots[SPAN_IDS] as PresetSpanIds | undefined) ?? new PresetSpanIds();
  slots[SPAN_IDS] = ids;
  return ids;
})();

/**
 * A call to the sidecar, named by what it does rather than by its URL (which holds state keys and order
 * ids): `invoke inventory/reserve`, `publish notifications`, `state GET`.
 */
export function sidecarCallName(method: string, path: string): string {
  const [version, api, ...rest] = (path.split('?')[0] ?? '').split('/').filter(Boolean);
  if (version !== 'v1.0' || !api) return method;
  if (api === 'invoke' && rest[1] === 'method') return `invoke ${rest[0]}/${rest.slice(2).join('/')}`;
  if (api === 'publish' && rest[1]) return `publish ${rest[1]}`;
  if (api === 'state') return `state ${method}`;
  return `${api} ${method}`;
}

/**
 * How much of the plumbing an order's trace shows. `steps` (the default): the order's story, its steps,
 * their service calls and notifications; a call to the state store is an event on the span that made it,
 * and the sidecar is told not to record it. `calls`: every call to the sidecar is a span, in the app and
 * in the sidecar (docs/architecture.md, "Tracing in the apps").
 */
export const TRACE_DETAILS = ['steps', 'calls'] as const;
export type TraceDetail = (typeof TRACE_DETAILS)[number];

export function traceDetailOf(env: NodeJS.ProcessEnv = process.env): TraceDetail {
  const value = (env.TRACE_DETAIL ?? '').trim().toLowerCase() || 'steps';
  if ((TRACE_DETAILS as readonly string[]).includes(value)) return value as TraceDetail;
  throw new Error(`TRACE_DETAIL is "${env.TRACE_DETAIL}": it must be "steps" (the default) or "calls"`);
}

const SIDECAR_TRACING = Symbol.for('dapr-orders.sidecarTracing');

/** Set by instrument.ts, read by every copy of this module (see `spanIds`): unset while tracing is off. */
export function setTraceDetail(detail: TraceDetail): void {
  slots[SIDECAR_TRACING] = detail;
}
export const traceDetail = (): TraceDetail | undefined => slots[SIDECAR_TRACING] as TraceDetail | undefined;

/** A `traceparent` that says "not sampled": in the current trace when there is one, else in a new one. */
export function unsampledTraceparent(parent: SpanContext | undefined = trace.getActiveSpan()?.spanContext()): string {
  const valid = parent && isSpanContextValid(parent);
  return toTraceparent({
    traceId: valid ? parent.traceId : spanIds.generateTraceId(),
    spanId: valid ? parent.spanId : spanIds.generateSpanId(),
    traceFlags: TraceFlags.NONE,
  });
}

/**
 * A call to the sidecar at the `steps` detail (at `calls`, undici's instrumentation makes it a span). A
 * service invocation or a publish carries the current span as its parent, so the sidecar's spans hang
 * under the step that made it; a state call carries "not sampled", so the sidecar records nothing, and
 * becomes an event on the current span (`state GET: 200 in 2 ms`). Without a current span, nothing is sampled.
 */
export async function traceSidecarCall<T extends { statusCode: number }>(
  method: string,
  path: string,
  headers: Record<string, string>,
  call: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (traceDetail() !== 'steps') return call(headers);
  const span = trace.getActiveSpan();
  const current = span?.spanContext();
  const plumbing = path.startsWith('/v1.0/state/');
  const sampled = current && isSpanContextValid(current) && current.traceFlags & TraceFlags.SAMPLED;
  const traceparent = sampled && !plumbing ? toTraceparent(current) : unsampledTraceparent(current);
  if (!plumbing || !span?.isRecording()) return call({ ...headers, traceparent });
  // Zipkin shows an event's name and time only: the name says what came of it, the time when it began.
  const name = sidecarCallName(method, path);
  const startedAt = Date.now();
  const started = performance.now();
  const note = (outcome: string, attributes: Attributes) => {
    const ms = Math.round(performance.now() - started);
    span.addEvent(`${name}: ${outcome} in ${ms} ms`, { ...attributes, 'duration.ms': ms }, startedAt);
  };
  try {
    const answer = await call({ ...headers, traceparent });
    note(String(answer.statusCode), { 'http.response.status_code': answer.statusCode });
    return answer;
  } catch (error) {
    note('failed', { 'error.message': (error as Error).message });
    throw error;
  }
}

/**
 * Zipkin's UI marks a span as failed by its `error` tag, which the exporter writes only for a status with
 * a message; the HTTP instrumentations set none for a 5xx. Such spans get the status code as message.
 */
export function withErrorMessage(span: ReadableSpan): ReadableSpan {
  if (span.status.code !== SpanStatusCode.ERROR || span.status.message) return span;
  const httpStatus = span.attributes['http.response.status_code'];
  const message = httpStatus === undefined ? 'failed' : `HTTP ${httpStatus}`;
  return Object.create(span, { status: { value: { code: SpanStatusCode.ERROR, message } } });
}

export const tagErrors = (exporter: SpanExporter): SpanExporter => ({
  export: (spans, done) => exporter.export(spans.map(withErrorMessage), done),
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
});

/** For pino's `mixin`: every log line written inside a traced request or activity names its trace. */
export function traceLogFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** Sends the spans still buffered, before the process exits; bounded, so that shutdown never hangs on it. */
export async function flushTraces(timeoutMs = 2_000): Promise<void> {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  const flush = (provider as { forceFlush?: () => Promise<void> }).forceFlush;
  if (typeof flush !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    flush.call(provider).catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
