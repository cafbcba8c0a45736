// Graceful shutdown: on SIGTERM a service stops taking new work, finishes the requests in flight and
// exits within 10 s with code 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { appExecutable, readDaprRunFile } from '../../scripts/lib/daprfile.ts';
import { freePort, httpOk, waitFor } from '../../scripts/lib/proc.ts';
import { apps, tokensOf } from './client.ts';

/**
 * A second instance of an app from dapr.yaml, beside the stack's and on the same sidecar (it only reads),
 * started from the same command; resolves once it answers its health check.
 */
async function secondInstance(appId: string, sidecarPort = apps()[appId]?.daprHttpPort) {
  const app = readDaprRunFile().apps.find((candidate) => candidate.appId === appId);
  if (!app) throw new Error(`no ${appId} app in dapr.yaml`);
  const port = await freePort();
  const [command, ...args] = app.command;
  const child = spawn(appExecutable(command), args, {
    cwd: app.dir,
    env: {
      ...process.env,
      APP_PORT: String(port),
      DAPR_HTTP_PORT: String(sidecarPort),
      DAPR_API_TOKEN: tokensOf(appId).daprApiToken,
      APP_API_TOKEN: tokensOf(appId).appApiToken,
      LOG_LEVEL: 'warn',
      OTEL_SDK_DISABLED: 'true', // no spans to a Zipkin that is not this stack's
    },
    stdio: 'ignore',
  });
  await waitFor(appId, () => httpOk(`http://127.0.0.1:${port}/healthz`), { timeoutMs: 30_000 }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, port };
}

/**
 * Passes calls on to the real sidecar after `delayMs`, counting them: requests reach the sidecar only once
 * the app has taken them, so the count says how many are in flight in the app, whatever the machine's load.
 */
async function slowSidecar(target: number, delayMs: number) {
  let seen = 0;
  const server = createServer((request, response) => {
    seen += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const answer = await fetch(`http://127.0.0.1:${target}${request.url}`, {
        method: request.method,
        headers: request.headers as Record<string, string>,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      const passOn = ['content-type', 'etag'].flatMap((name) => {
        const value = answer.headers.get(name);
        return value === null ? [] : [[name, value] as const];
      });
      response.writeHead(answer.status, Object.fromEntries(passOn));
      response.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen: () => seen, close: () => server.close() };
}

it('a service answers its in-flight requests and exits cleanly within 10 s of SIGTERM', async () => {
  const sidecar = await slowSidecar(apps().payments?.daprHttpPort ?? 0, 300);
  const { child, port } = await secondInstance('payments', sidecar.port);
  try {
    const inFlight = Array.from({ length: 20 }, (_, n) =>
      fetch(`http://127.0.0.1:${port}/payments/order_shutdown_${String(n).padStart(5, '0')}`, {
        headers: { 'dapr-api-token': tokensOf('payments').appApiToken },
      }).then(
        (response) => response.status,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
      ),
    );
    await waitFor('requests in flight', async () => sidecar.seen() >= 5, { timeoutMs: 10_000 });
    const taken = sidecar.seen();
    const signalled = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const tookMs = Date.now() - signalled;

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    // Requests the server had taken (at least those that reached the sidecar) are answered (200). Ones it had not taken yet are turned away: 503
    // while closing, a refused connection once it stopped listening, or a reset of a connection it had
    // accepted but not read a request from. Nothing else, and no other 5xx.
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.filter((outcome) => ![200, 503, 'ECONNREFUSED', 'ECONNRESET'].includes(outcome))).toEqual([]);
    expect(outcomes.filter((outcome) => outcome === 200).length).toBeGreaterThanOrEqual(taken);
  } finally {
    child.kill('SIGKILL');
    sidecar.close();
  }
});

it('the notifications service ends its open SSE streams and exits cleanly within 10 s of SIGTERM', async () => {
  const { child, port } = await secondInstance('notifications');
  try {
    // A browser's page: a stream that stays open.
    const stream = await fetch(`http://127.0.0.1:${port}/events`, { headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    await reader?.read();

    const signalled = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    await reader?.cancel().catch(() => undefined);
  } finally {
    child.kill('SIGKILL');
  }
});
