// Graceful shutdown: on SIGTERM a service stops taking new work, finishes the requests in flight and
// exits within 10 s with code 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { readDaprRunFile } from '../../scripts/lib/daprfile.ts';
import { freePort, httpOk, waitFor } from '../../scripts/lib/proc.ts';
import { apps, credentials } from './client.ts';

/**
 * A second instance of an app from dapr.yaml, beside the stack's and on the same sidecar (it only reads),
 * started from the same command; resolves once it answers its health check.
 */
async function secondInstance(appId: string) {
  const app = readDaprRunFile().apps.find((candidate) => candidate.appId === appId);
  if (!app) throw new Error(`no ${appId} app in dapr.yaml`);
  const port = await freePort();
  const [command, ...args] = app.command;
  const child = spawn(command ?? 'node', args, {
    cwd: app.dir,
    env: {
      ...process.env,
      APP_PORT: String(port),
      DAPR_HTTP_PORT: String(apps()[appId]?.daprHttpPort),
      DAPR_API_TOKEN: credentials().daprApiToken,
      APP_API_TOKEN: credentials().appApiToken,
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  await waitFor(appId, () => httpOk(`http://127.0.0.1:${port}/healthz`), { timeoutMs: 30_000 }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, port };
}

it('a service answers its in-flight requests and exits cleanly within 10 s of SIGTERM', async () => {
  const { child, port } = await secondInstance('payments');
  try {
    const inFlight = Array.from({ length: 20 }, (_, n) =>
      fetch(`http://127.0.0.1:${port}/payments/order_shutdown_${String(n).padStart(5, '0')}`, {
        headers: { 'dapr-api-token': credentials().appApiToken },
      }).then(
        (response) => response.status,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const tookMs = Date.now() - signalled;

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    // Requests the server had taken are answered (200). Ones it had not taken yet are turned away: 503
    // while closing, a refused connection once it stopped listening, or a reset of a connection it had
    // accepted but not read a request from. Nothing else, and no other 5xx.
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.filter((outcome) => ![200, 503, 'ECONNREFUSED', 'ECONNRESET'].includes(outcome))).toEqual([]);
    expect(outcomes).toContain(200);
  } finally {
    child.kill('SIGKILL');
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
