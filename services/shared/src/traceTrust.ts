// Whose trace a request may join. Order ids are public, so a caller that sent an order's trace id in its
// `traceparent` could add spans to that order's trace, or learn where to look for it. Only our sidecar,
// which proves itself with the app token, passes a trace on; every other request starts a trace of its own.
import { type IncomingMessage, Server, type ServerOptions } from 'node:http';
import { presentsAppToken } from './auth.ts';

/** The headers through which a caller's trace (W3C or B3) and baggage would be continued. */
const TRACE_HEADERS = [
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
];

/** Drops the trace headers of a request that does not carry the app token (all of them, when none is set). */
export function dropForeignTrace(request: IncomingMessage, appApiToken: string | undefined): void {
  if (presentsAppToken(request.headers, appApiToken)) return;
  for (const name of TRACE_HEADERS) delete request.headers[name];
}

type RequestHandler = (request: IncomingMessage, ...rest: never[]) => void;

/**
 * The HTTP server of every service (Fastify's serverFactory). It looks at a request before the HTTP
 * instrumentation does, which wraps Server.prototype.emit and reads the trace headers there.
 */
export function traceTrustingServer(appApiToken: string | undefined) {
  return (handler: RequestHandler, options: ServerOptions) => {
    class SidecarTraceServer extends Server {
      override emit(event: string, ...args: unknown[]): boolean {
        if (event === 'request') dropForeignTrace(args[0] as IncomingMessage, appApiToken);
        return super.emit(event, ...args);
      }
    }
    return new SidecarTraceServer(options, handler as never);
  };
}
