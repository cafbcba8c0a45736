// Fault injection for the tests only (FAULTS: unset by default, and never set outside the test stacks).
// A real stack never declines a charge or refuses a release by itself, so the integration tests name the
// orders whose call to a route fails, and drive the failure paths end to end while every other order on
// the same stack goes through. `charge:422@order_declined_`: POST /charge answers 422 for those orders.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PROBLEM_STATUS, Problem, type ProblemKind } from './errors.ts';

export interface FaultRule {
  /** The route, without its slash: `charge`, `release`, `ship`. */
  route: string;
  kind: ProblemKind;
  /** The orders it applies to: those whose id starts so (`order_<customer>_`, see orderId.ts). */
  orderIdPrefix: string;
}

const RULE = /^([a-z]+):(\d{3})@(order_[a-z0-9_]+)$/;
const KIND_OF_STATUS = new Map<number, ProblemKind>(
  Object.entries(PROBLEM_STATUS).map(([kind, status]) => [status, kind as ProblemKind]),
);

/** `<route>:<status>@<order id prefix>`, comma-separated; the status one of the errors' (errors.ts). */
export const FaultRules = z
  .string()
  .optional()
  .transform((text, ctx): FaultRule[] => {
    const rules: FaultRule[] = [];
    for (const entry of (text ?? '').split(',').map((part) => part.trim())) {
      if (!entry) continue;
      const [, route = '', status = '', orderIdPrefix = ''] = RULE.exec(entry) ?? [];
      const kind = KIND_OF_STATUS.get(Number(status));
      if (!kind) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not <route>:<4xx or 5xx of errors.ts>@order_<prefix>` });
        return z.NEVER;
      }
      rules.push({ route, kind, orderIdPrefix });
    }
    return rules;
  });

/** Answers a call to a named route about a named order with the rule's error, before its handler runs. */
export function injectFaults(app: FastifyInstance, rules: FaultRule[]): void {
  if (rules.length === 0) return;
  app.addHook('preHandler', async (request) => {
    const orderId = (request.body as { orderId?: unknown } | undefined)?.orderId;
    if (typeof orderId !== 'string') return;
    const route = request.routeOptions.url?.slice(1);
    const rule = rules.find((candidate) => candidate.route === route && orderId.startsWith(candidate.orderIdPrefix));
    if (rule) throw new Problem(rule.kind, `${route} refused for ${orderId} (a fault injected by FAULTS)`);
  });
}
