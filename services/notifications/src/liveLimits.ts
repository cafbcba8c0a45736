// How many live connections (SSE) this process holds, overall and per client. Each one costs a socket, a
// snapshot read when it connects and its share of every notification, so an unbounded number of them, or
// one client opening many, could take the service down for everybody. A client is its address as Fastify
// tells it (`request.ip`), as the order API's rate limit counts it: behind a proxy that Fastify is told
// to trust, the client's own address, otherwise the connection's peer.

export interface LiveLimitOptions {
  /** Open connections in this process. */
  maxConnections: number;
  /** Open connections per client address. */
  maxPerClient: number;
}

/** A connection that may not open: too many from this client (429), or too many overall (503). */
export interface Refusal {
  statusCode: 429 | 503;
  message: string;
  /** Seconds, for the Retry-After header. */
  retryAfter: number;
}

/** What a refused client is told to wait: connections are long-lived, so a slot frees up slowly. */
const RETRY_AFTER_S = 10;

export class LiveLimits {
  private open = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly options: LiveLimitOptions) {}

  /**
   * Takes a slot for a connection from `client`: a release function (idempotent) to call when the
   * connection ends, or why it may not open.
   */
  admit(client: string): { release: () => void } | { refusal: Refusal } {
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.options.maxPerClient) {
      const message = `too many live connections from this client (at most ${this.options.maxPerClient}); close one or try again later`;
      return { refusal: { statusCode: 429, message, retryAfter: RETRY_AFTER_S } };
    }
    if (this.open >= this.options.maxConnections) {
      const message = 'the live page has as many connections as it can serve; try again later';
      return { refusal: { statusCode: 503, message, retryAfter: RETRY_AFTER_S } };
    }
    this.open++;
    this.perClient.set(client, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.open--;
        const left = (this.perClient.get(client) ?? 1) - 1;
        if (left > 0) this.perClient.set(client, left);
        else this.perClient.delete(client);
      },
    };
  }

  /** Open connections. */
  get size(): number {
    return this.open;
  }

  /** Open connections of one client. */
  of(client: string): number {
    return this.perClient.get(client) ?? 0;
  }
}
