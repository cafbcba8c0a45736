// Only our sidecar passes a trace on: the headers the HTTP instrumentation would continue a trace from are
// gone from any other request by the time the server hands it on (to the instrumentation, then Fastify).
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceApp } from '../src/http.ts';

const APP_API_TOKEN = 'the-sidecars-token-for-its-app';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const traceHeaders = { traceparent, tracestate: 'x=1', baggage: 'user=1', b3: '4bf92f3577b34da6-00f067aa0ba902b7-1' };

let close: (() => Promise<unknown>) | undefined;
afterEach(async () => close?.());

/** A service that answers with the trace headers it saw. */
async function listening(appApiToken: string | undefined) {
  const app = createServiceApp({ name: 'test', logLevel: 'silent', ...(appApiToken ? { appApiToken } : {}) });
  app.get('/seen', async (request) => ({
    traceparent: request.headers.traceparent ?? null,
    tracestate: request.headers.tracestate ?? null,
    baggage: request.headers.baggage ?? null,
    b3: request.headers.b3 ?? null,
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  close = () => app.close();
  const { port } = app.server.address() as AddressInfo;
  return (headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${port}/seen`, { headers }).then((answer) => answer.json());
}

describe("a caller's trace", () => {
  it('is dropped for a request without the app token, or with a wrong one', async () => {
    const seen = await listening(APP_API_TOKEN);
    const dropped = { traceparent: null, tracestate: null, baggage: null, b3: null };
    expect(await seen(traceHeaders)).toEqual(dropped);
    expect(await seen({ ...traceHeaders, 'dapr-api-token': 'not-the-token' })).toEqual(dropped);
  });

  it('is kept for our sidecar, which presents the app token', async () => {
    const seen = await listening(APP_API_TOKEN);
    expect(await seen({ ...traceHeaders, 'dapr-api-token': APP_API_TOKEN })).toEqual(traceHeaders);
  });

  it('is dropped for everyone when no app token is set: nobody can prove to be the sidecar', async () => {
    const seen = await listening(undefined);
    expect((await seen({ ...traceHeaders, 'dapr-api-token': APP_API_TOKEN })).traceparent).toBeNull();
  });
});
