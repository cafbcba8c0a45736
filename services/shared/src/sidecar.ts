// Waiting for the sidecar, and the Dapr SDK's logs routed into the service's own pino logger.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@dapr/dapr/types/logger/LoggerService.js';
import type { FastifyBaseLogger } from 'fastify';

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

const text = (message: unknown, params: unknown[]) =>
  [message, ...params].map((part) => (part instanceof Error ? part.message : String(part))).join(' ');

/** The SDK logs through this, so its lines land in the same JSON log as ours, tagged `dapr-sdk`. */
export function sdkLogger(log: FastifyBaseLogger): LoggerService {
  const child = log.child({ component: 'dapr-sdk' });
  return {
    error: (message, ...params) => child.error(text(message, params)),
    warn: (message, ...params) => child.warn(text(message, params)),
    info: (message, ...params) => child.debug(text(message, params)),
    verbose: (message, ...params) => child.trace(text(message, params)),
    debug: (message, ...params) => child.trace(text(message, params)),
  };
}
