// Waiting for the sidecar, and the Dapr SDK's logs in the service's own pino logger.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { LoggerService } from './daprSdk.ts';

/**
 * Resolves once the sidecar's own APIs are up (components loaded): `/v1.0/healthz/outbound` answers
 * before the sidecar has found our app, so waiting on it cannot deadlock with the app's own start.
 */
export async function waitForSidecar(host: string, httpPort: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`http://${host}:${httpPort}/v1.0/healthz/outbound`, {
        signal: AbortSignal.timeout(1000),
      });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the Dapr sidecar on port ${httpPort} did not become ready`);
    await sleep(250);
  }
}

const LEVELS: Record<string, number | undefined> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

const text = (message: unknown, params: unknown[]) =>
  [message, ...params].map((part) => (part instanceof Error ? part.message : String(part))).join(' ');

/**
 * The SDK logs through this, so its lines land in the same JSON log as ours, tagged `dapr-sdk`. Its INFO
 * lines (several per workflow step) become debug; a line of a disabled level is not even formatted.
 */
export function sdkLogger(log: FastifyBaseLogger): LoggerService {
  const child = log.child({ component: 'dapr-sdk' });
  const at =
    (level: 'error' | 'warn' | 'debug' | 'trace') =>
    (message: unknown, ...params: unknown[]) => {
      if ((LEVELS[level] ?? 0) >= (LEVELS[child.level] ?? Number.POSITIVE_INFINITY))
        child[level](text(message, params));
    };
  return { error: at('error'), warn: at('warn'), info: at('debug'), verbose: at('trace'), debug: at('trace') };
}
