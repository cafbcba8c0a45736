// OpenTelemetry for a service, preloaded before the app (`node --import ../shared/dist/instrument.js`), so
// that `http` is instrumented before Fastify loads it. Lean on purpose: incoming HTTP and outgoing undici
// calls only; OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER and OTEL_EXPORTER_ZIPKIN_ENDPOINT are the switches
// (docs/architecture.md, "Tracing in the apps").
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
