// A small client for the parts of the Dapr HTTP API the services use: state with ETags, service
// invocation and publishing. The SDK's DaprClient drops the ETag on reads, which optimistic concurrency
// needs, so these few calls are made directly, with undici's `request` over kept-alive connections to
// the sidecar (a quarter of the CPU of `fetch` per call, and every step of an order makes several).
import { Agent, type Dispatcher, request } from 'undici';
import { traceSidecarCall } from './tracing.ts';

export const STATE_STORE = 'statestore';
export const PUBSUB = 'orders';
export const NOTIFICATIONS_TOPIC = 'notifications';

/** A non-2xx answer from the sidecar, or from the app behind it, with the status kept for callers. */
export class DaprError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'DaprError';
  }
}

/** The ETag did not match: someone else wrote the key first. */
export class EtagMismatch extends Error {
  constructor(readonly key: string) {
    super(`state key ${key} was changed concurrently`);
    this.name = 'EtagMismatch';
  }
}

export interface StateEntry<T> {
  value: T | undefined;
  etag: string | undefined;
}

export interface SaveItem {
  key: string;
  value: unknown;
  /** Write only if the stored ETag is still this one; without one, only if the key does not exist. */
  etag?: string;
  /** Expire the key this long after this write (Dapr state TTL). */
  ttlSeconds?: number;
}

export interface DaprClientOptions {
  host: string;
  httpPort: number;
  apiToken?: string | undefined;
  timeoutMs?: number;
}

/** One key of a bulk get's answer: no `data` when the key does not exist. */
interface BulkStateItem {
  key: string;
  data?: unknown;
  etag?: string;
  error?: string;
}

interface Answer {
  status: number;
  ok: boolean;
  etag: string | undefined;
  text: () => Promise<string>;
}

async function readBody(response: Answer): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function messageOf(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  if (typeof body === 'string' && body) return body;
  return fallback;
}

export class DaprHttpClient {
  /** The client of this app's own sidecar, as the environment describes it. */
  static forSidecar(config: { DAPR_HOST: string; DAPR_HTTP_PORT: number; DAPR_API_TOKEN?: string | undefined }) {
    return new DaprHttpClient({
      host: config.DAPR_HOST,
      httpPort: config.DAPR_HTTP_PORT,
      apiToken: config.DAPR_API_TOKEN,
    });
  }

  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  constructor(options: DaprClientOptions) {
    this.base = `http://${options.host}:${options.httpPort}/v1.0`;
    this.headers = { 'content-type': 'application/json' };
    if (options.apiToken) this.headers['dapr-api-token'] = options.apiToken;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  }

  /** One call to the sidecar; the timeout bounds the wait for the answer's headers and for its body. */
  private async request(
    path: string,
    init: { method: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer> {
    const send = (sent: Record<string, string>) =>
      request(`${this.base}${path}`, {
        method: init.method as Dispatcher.HttpMethod,
        headers: sent,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    const headersOut = { ...this.headers, ...init.headers };
    const { statusCode, headers, body } = await traceSidecarCall(init.method, `/v1.0${path}`, headersOut, send);
    const etag = headers.etag;
    return {
      status: statusCode,
      ok: statusCode >= 200 && statusCode < 300,
      etag: Array.isArray(etag) ? etag[0] : etag,
      text: () => body.text(),
    };
  }

  async getState<T>(key: string): Promise<StateEntry<T>> {
    const response = await this.request(`/state/${STATE_STORE}/${encodeURIComponent(key)}`, { method: 'GET' });
    const body = await readBody(response);
    if (response.status === 204) return { value: undefined, etag: undefined };
    if (!response.ok)
      throw new DaprError(`get state ${key}: ${messageOf(body, `HTTP ${response.status}`)}`, response.status, body);
    return { value: body as T, etag: response.etag };
  }

  /** Several keys in one call (Dapr's bulk get), each as `getState` returns it, in the order asked for. */
  async getStates<T>(keys: readonly string[]): Promise<StateEntry<T>[]> {
    const response = await this.request(`/state/${STATE_STORE}/bulk`, { method: 'POST', body: { keys } });
    const body = await readBody(response);
    const what = `get state ${keys.join(', ')}`;
    if (!response.ok)
      throw new DaprError(`${what}: ${messageOf(body, `HTTP ${response.status}`)}`, response.status, body);
    const items = new Map((body as BulkStateItem[]).map((item) => [item.key, item]));
    return keys.map((key) => {
      const item = items.get(key);
      if (item?.error) throw new DaprError(`${what}: ${item.error}`, response.status, body);
      return { value: item?.data as T | undefined, etag: item?.etag };
    });
  }

  /**
   * Saves keys with first-write concurrency, always: an item with an ETag is written only if the stored
   * ETag still matches, an item without one only if the key does not exist yet (both Redis and
   * PostgreSQL treat first-write without an ETag as create-only). Either conflict throws `EtagMismatch`.
   * There is deliberately no unconditional write: on Redis it would also fail once a key was written
   * with first-write.
   */
  async saveState(items: SaveItem[]): Promise<void> {
    const body = items.map((item) => ({
      key: item.key,
      value: item.value,
      ...(item.etag === undefined ? {} : { etag: item.etag }),
      ...(item.ttlSeconds === undefined ? {} : { metadata: { ttlInSeconds: String(item.ttlSeconds) } }),
      options: { concurrency: 'first-write' },
    }));
    const response = await this.request(`/state/${STATE_STORE}`, { method: 'POST', body });
    const answer = await readBody(response); // read even when empty: it frees the connection
    if (response.ok) return;
    const creating = items.some((item) => item.etag === undefined);
    // A create that lost its race is a plain 500 ERR_STATE_SAVE, not a 409: Redis says "failed to set key
    // …", PostgreSQL v2 "no item was updated" (test/integration/firstWrite.ts pins both).
    const lostCreate =
      creating && response.status === 500 && /failed to set key|no item was updated/.test(messageOf(answer, ''));
    if (response.status === 409 || lostCreate) throw new EtagMismatch(items.map((item) => item.key).join(', '));
    throw new DaprError(`save state: ${messageOf(answer, `HTTP ${response.status}`)}`, response.status, answer);
  }

  /**
   * Calls `method` on another app through both sidecars; a non-2xx answer throws `DaprError`. Extra
   * headers (such as a caller's Authorization) reach the app: Dapr drops only hop-by-hop ones.
   */
  async invoke<T>(
    appId: string,
    method: string,
    body?: unknown,
    options: { httpMethod?: string; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const response = await this.request(`/invoke/${appId}/method/${method}`, {
      method: options.httpMethod ?? 'POST',
      body,
      headers: options.headers,
    });
    const answer = await readBody(response);
    if (!response.ok) {
      throw new DaprError(
        `${appId} ${method}: ${messageOf(answer, `HTTP ${response.status}`)}`,
        response.status,
        answer,
      );
    }
    return answer as T;
  }

  async publish(topic: string, data: unknown, pubsub = PUBSUB): Promise<void> {
    const response = await this.request(`/publish/${pubsub}/${topic}`, { method: 'POST', body: data });
    const answer = await readBody(response); // read even when empty: it frees the connection
    if (!response.ok) {
      throw new DaprError(`publish ${topic}: ${messageOf(answer, `HTTP ${response.status}`)}`, response.status, answer);
    }
  }
}
