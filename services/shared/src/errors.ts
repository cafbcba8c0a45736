// The outcomes a caller must act on, as errors. Domain code throws them by what happened (not found, in
// conflict, unavailable…) and never speaks HTTP: the one error handler in http.ts maps each kind to its
// status, and every route lists those answers in its schema (`Problem`).
import { z } from 'zod';

export const PROBLEM_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid: 422,
  too_many_requests: 429,
  bad_gateway: 502,
  unavailable: 503,
} as const;
export type ProblemKind = keyof typeof PROBLEM_STATUS;

export class Problem extends Error {
  constructor(
    readonly kind: ProblemKind,
    message: string,
  ) {
    super(message);
    this.name = 'Problem';
  }

  get statusCode(): number {
    return PROBLEM_STATUS[this.kind];
  }
}

export class NotFound extends Problem {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class Conflict extends Problem {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class Unavailable extends Problem {
  constructor(message: string) {
    super('unavailable', message);
  }
}

export class Unauthorized extends Problem {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

export class TooManyRequests extends Problem {
  constructor(message: string) {
    super('too_many_requests', message);
  }
}

/** Every error answer's body: the status again and a sentence; for bad input, the fields at fault. */
export const ProblemBody = z.object({
  statusCode: z.number().int(),
  error: z.string().optional(),
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** The error answers of a route, for its response schema (and so the OpenAPI document). */
export const problems = <S extends number>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((status) => [status, ProblemBody])) as Record<S, typeof ProblemBody>;
