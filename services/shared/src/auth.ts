// Credentials: approvers' tokens, the admin token, and the token the sidecar presents to its app.
// Tokens are compared in constant time (over their SHA-256, so lengths do not leak either) and are never
// logged: the loggers redact the headers that carry them.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { Unauthorized } from './errors.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Constant-time equality of two secrets. */
export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export interface Approver {
  name: string;
  token: string;
}

/** APPROVER_TOKENS="chris:<token>,dana:<token>". */
export function parseApprovers(text: string | undefined): Approver[] {
  if (!text?.trim()) return [];
  return text.split(',').map((pair) => {
    const at = pair.indexOf(':');
    const [name, token] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    if (at < 1 || !name || token.length < 16) {
      throw new Error('APPROVER_TOKENS: each entry is name:token, with a token of 16 characters or more');
    }
    return { name, token };
  });
}

/** Whether a request comes through our sidecar: it presents the app token (APP_API_TOKEN). */
export function presentsAppToken(headers: IncomingHttpHeaders, appApiToken: string | undefined): boolean {
  const presented = headers['dapr-api-token'];
  return appApiToken !== undefined && typeof presented === 'string' && safeEqual(presented, appApiToken);
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** The approver the request's bearer token belongs to; 401 without a known token. */
export function authenticateApprover(request: FastifyRequest, approvers: Approver[]): Approver {
  const token = bearerToken(request);
  if (!token) throw new Unauthorized('approving needs Authorization: Bearer <approver token>');
  // Every entry is compared, so the time taken does not tell which one matched.
  let found: Approver | undefined;
  for (const approver of approvers) if (safeEqual(token, approver.token)) found = approver;
  if (!found) throw new Unauthorized('unknown approver token');
  return found;
}

/** An operator endpoint: needs `Authorization: Bearer <ADMIN_TOKEN>`. */
export function requireAdmin(adminToken: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!adminToken) throw new Unauthorized('operator endpoints are disabled: ADMIN_TOKEN is not set');
    if (!token || !safeEqual(token, adminToken)) {
      throw new Unauthorized('this operator endpoint needs Authorization: Bearer <ADMIN_TOKEN>');
    }
  };
}

/**
 * Who presents the request's bearer token: the admin, an approver, or nobody (no token). A token that is
 * neither gets 401, so that guessing one counts against the client's limit of refused credentials.
 */
export type Role = 'admin' | 'approver' | 'anonymous';
export function roleOf(request: FastifyRequest, approvers: Approver[], adminToken: string | undefined): Role {
  const token = bearerToken(request);
  if (!token) return 'anonymous';
  // Every token is compared, so the time taken does not tell which one matched.
  const admin = adminToken !== undefined && safeEqual(token, adminToken);
  let approver = false;
  for (const known of approvers) approver = safeEqual(token, known.token) || approver;
  if (admin) return 'admin';
  if (approver) return 'approver';
  throw new Unauthorized('unknown token: use an approver or the admin token, or none');
}

/**
 * Customers' names are personal data: people who run the shop (an approver, the admin) see them whole,
 * anyone else its first letter. Order ids carry a slug of the name by design, so an id is not for sharing.
 */
export const maskName = (name: string, role: Role) => (role === 'anonymous' ? `${[...name][0] ?? ''}…` : name);
