// OpenTelemetry for a service, preloaded before the app (`node --import ../shared/dist/instrument.js`), so
// that `http` is instrumented before Fastify loads it. Lean on purpose: incoming HTTP, and the calls to the
// sidecar as dapr.ts traces them (or, at TRACE_DETAIL=calls, undici's spans); OTEL_SDK_DISABLED,
// OTEL_TRACES_SAMPLER and OTEL_EXPORTER_ZIPKIN_ENDPOINT are the switches (docs/architecture.md, "Tracing in the apps").
import { basename } from 'node:path';
import { setTraceDetail, sidecarCallName, spanIds, tagErrors, traceDetailOf, tracingDisabled } from './tracing.ts';

/** Requests that say nothing about orders: the sidecar's health checks, the page's assets and live stream. */
const UNTRACED_PATHS = new Set(['/healthz', '/', '/app.js', '/style.css', '/events', '/favicon.ico']);
/**
 * Plumbing, a span only at TRACE_DETAIL=calls: a batch of notifications holds several orders' messages,
 * each traced on its own under its order (notifications' subscription.ts); the batch's request would land
 * in one of their traces.
 */
const CALLS_ONLY_PATHS = new Set(['/notifications/bulk']);

/** At TRACE_DETAIL=calls: every call to the sidecar a span; a call outside any span starts no trace. */
async function sidecarCallSpans() {
  const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');
  return new UndiciInstrumentation({
    requireParentforSpans: true,
    requestHook: (span, request) => span.updateName(sidecarCallName(request.method, request.path)),
  });
}

async function startTracing(): Promise<void> {
  const detail = traceDetailOf();
  const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');

  const serviceName = process.env.OTEL_SERVICE_NAME || process.env.APP_ID || basename(process.cwd());
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    idGenerator: spanIds,
    spanProcessors: [new BatchSpanProcessor(tagErrors(new ZipkinExporter()))],
  });
  provider.register();
  setTraceDetail(detail);
  const untraced = detail === 'calls' ? UNTRACED_PATHS : new Set([...UNTRACED_PATHS, ...CALLS_ONLY_PATHS]);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // The services call out through undici only (dapr.ts); the SDK's gRPC is HTTP/2, untouched either way.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => untraced.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      ...(detail === 'calls' ? [await sidecarCallSpans()] : []),
    ],
  });
}

if (!tracingDisabled()) await startTracing();
