// Who may see customers' names on the page: a reader, someone who signed in with an approver's or the admin
// token. This service holds no tokens of its own; orderprocessing says whether a token may read (the one
// that may list orders may read names). The browser keeps the token in an HttpOnly cookie, which its
// EventSource sends too (it can send no Authorization header).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '#shared/auth.ts';
import { Unauthorized } from '#shared/errors.ts';

export const READER_COOKIE = 'reader';
/** How long a browser stays signed in. */
const SESSION_SECONDS = 12 * 60 * 60;
/** How long a token orderprocessing accepted is taken without asking again. */
const VERIFIED_FOR_MS = 60_000;

export type TokenCheck = (authorization: string) => Promise<boolean>;

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** What the routes ask of the readers (the tests of other things pass one where everyone reads). */
export interface ReaderCheck {
  isReader(request: FastifyRequest): Promise<boolean>;
  signIn(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  signOut(request: FastifyRequest, reply: FastifyReply): void;
}

export class Readers implements ReaderCheck {
  private readonly verified = new Map<string, number>();

  constructor(
    private readonly canRead: TokenCheck,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether the request comes from a signed-in reader (a cookie whose token orderprocessing accepts). When
   * orderprocessing cannot say, not: the page then shows names masked until it can.
   */
  async isReader(request: FastifyRequest): Promise<boolean> {
    const token = cookieOf(request, READER_COOKIE);
    if (!token) return false;
    return this.check(token).catch((error: unknown) => {
      request.log.warn({ err: error }, 'orderprocessing could not say whether a reader may read; names masked');
      return false;
    });
  }

  /** Signs the browser in with the token of its Authorization header: 401 when it may not read. */
  async signIn(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (!token) throw new Unauthorized('signing in needs Authorization: Bearer <approver or admin token>');
    if (!(await this.check(token))) throw new Unauthorized('this token may not read orders');
    reply.header('set-cookie', this.cookie(request, encodeURIComponent(token), SESSION_SECONDS));
  }

  signOut(request: FastifyRequest, reply: FastifyReply): void {
    reply.header('set-cookie', this.cookie(request, '', 0));
  }

  private cookie(request: FastifyRequest, value: string, maxAge: number): string {
    const secure = request.protocol === 'https' ? '; Secure' : '';
    return `${READER_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
  }

  private async check(token: string): Promise<boolean> {
    const key = createHash('sha256').update(token).digest('base64');
    const until = this.verified.get(key);
    if (until !== undefined && until > this.now()) return true;
    if (!(await this.canRead(`Bearer ${token}`))) {
      this.verified.delete(key);
      return false;
    }
    if (this.verified.size > 1000) this.verified.clear(); // a bound; the next checks ask again
    this.verified.set(key, this.now() + VERIFIED_FOR_MS);
    return true;
  }
}
