// The approval API of orderprocessing, reached through our sidecar (Dapr service invocation), with the
// approver's Authorization header passed on: Dapr forwards it to the app, which checks the token.
import { DaprError } from '#shared/dapr.ts';
import type { OrdersApi } from './routes.ts';

export interface SidecarOrdersApiOptions {
  DAPR_HOST: string;
  DAPR_HTTP_PORT: number;
  DAPR_API_TOKEN?: string | undefined;
  ORDERS_APP_ID: string;
  timeoutMs?: number;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sidecarOrdersApi(options: SidecarOrdersApiOptions): OrdersApi {
  const base = `http://${options.DAPR_HOST}:${options.DAPR_HTTP_PORT}/v1.0/invoke/${options.ORDERS_APP_ID}/method`;
  return {
    async approve(orderId, decision, authorization) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.DAPR_API_TOKEN) headers['dapr-api-token'] = options.DAPR_API_TOKEN;
      if (authorization) headers.authorization = authorization;
      const response = await fetch(`${base}/orders/${encodeURIComponent(orderId)}/approve`, {
        method: 'POST',
        headers,
        body: JSON.stringify(decision),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const body = await readBody(response);
      if (!response.ok) {
        throw new DaprError(`${options.ORDERS_APP_ID} approve: HTTP ${response.status}`, response.status, body);
      }
      return (body ?? {}) as { message?: string };
    },
  };
}
