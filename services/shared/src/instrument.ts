// OpenTelemetry for a service, preloaded before the app (`node --import ../shared/dist/instrument.js
// dist/server.js`, as dapr.yaml runs their bundles) so that `http` is instrumented before Fastify loads it.
//
// Lean on purpose (CPU per order is benchmarked): incoming HTTP (one server span per request, W3C
// `traceparent` taken from the caller) and outgoing undici calls (`request` and `fetch`: one client span
// per call to the sidecar, with `traceparent` added, which daprd passes on through service invocation and
// into pub/sub CloudEvents).
// No gRPC instrumentation (the workflow worker's stream lives for hours), no fs, dns or net.
//
// Standard switches: OTEL_SDK_DISABLED=true loads nothing at all; OTEL_TRACES_SAMPLER (e.g. always_off)
// picks the sampler; OTEL_EXPORTER_ZIPKIN_ENDPOINT says where spans go (default
// http://localhost:9411/api/v2/spans). The service name is the Dapr app id (APP_ID), like the sidecar's.
import { basename } from 'node:path';
import { sidecarCallName, spanIds, tagErrors, tracingDisabled } from './tracing.ts';

/** Requests that say nothing about orders: the sidecar's health checks, the page's assets and live stream. */
const UNTRACED_PATHS = new Set(['/healthz', '/', '/app.js', '/style.css', '/events', '/favicon.ico']);

async function startTracing(): Promise<void> {
  const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = await import('@opentelemetry/instrumentation-undici');

  const serviceName = process.env.OTEL_SERVICE_NAME || process.env.APP_ID || basename(process.cwd());
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    idGenerator: spanIds,
    spanProcessors: [new BatchSpanProcessor(tagErrors(new ZipkinExporter()))],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // The services call out through undici only (below); the SDK's gRPC is HTTP/2, untouched either way.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      // A call outside any span (waiting for the sidecar at start, the initial stock) starts no trace.
      new UndiciInstrumentation({
        requireParentforSpans: true,
        requestHook: (span, request) => span.updateName(sidecarCallName(request.method, request.path)),
      }),
    ],
  });
}

if (!tracingDisabled()) await startTracing();
