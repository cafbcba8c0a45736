// Fault injection for the tests only (FAULTS: unset by default, and never set outside the test stacks).
// A real stack never declines a charge by itself, nor loses an answer, nor serves a call after its caller
// gave up; the integration tests name the orders whose calls to a route meet such a fault, and drive those
// paths end to end while every other order on the same stack goes through.
//   charge:422@order_declined_          POST /charge answers 422 for those orders (nothing is charged)
//   ship:503+done@order_lost_           the ship is done, and its answer replaced by a 503 (the answer lost)
//   charge:503+late=8s@order_late_      answers 503 at once, and does the charge 8 s later
//   reserve:delay=1s@order_early_       holds the reserve up for 1 s, then serves it (a slow service)
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import ms from 'ms';
import { z } from 'zod';
import { PROBLEM_STATUS, Problem, type ProblemKind } from './errors.ts';

/** Whether a refused call still takes effect: not at all, before the error answer, or that much later. */
type Effect = 'none' | 'done' | { lateMs: number };

export type FaultRule = {
  /** The route, without its slash: `charge`, `release`, `ship`. */
  route: string;
  /** The orders it applies to: those whose id starts so (`order_<customer>_`, see orderId.ts). */
  orderIdPrefix: string;
} & ({ kind: ProblemKind; effect: Effect } | { delayMs: number });

const RULE = /^([a-z]+):(?:(\d{3})(?:\+(done|late=[0-9a-z.]+))?|delay=([0-9a-z.]+))@(order_[a-z0-9_]+)$/;
const DURATION = /^\d+(?:ms|s|m)$/;
const KIND_OF_STATUS = new Map<number, ProblemKind>(
  Object.entries(PROBLEM_STATUS).map(([kind, status]) => [status, kind as ProblemKind]),
);

function effectOf(text: string | undefined): Effect | undefined {
  if (text === undefined) return 'none';
  if (text === 'done') return 'done';
  const late = text.slice('late='.length);
  return DURATION.test(late) ? { lateMs: ms(late as ms.StringValue) } : undefined;
}

/**
 * `<route>:<status>[+done|+late=<duration>]@<order id prefix>` or `<route>:delay=<duration>@<prefix>`,
 * comma-separated; the status one of errors.ts.
 */
export const FaultRules = z
  .string()
  .optional()
  .transform((text, ctx): FaultRule[] => {
    const rules: FaultRule[] = [];
    for (const entry of (text ?? '').split(',').map((part) => part.trim())) {
      if (!entry) continue;
      const [, route = '', status = '', effectText, delay, orderIdPrefix = ''] = RULE.exec(entry) ?? [];
      if (delay !== undefined && DURATION.test(delay)) {
        rules.push({ route, orderIdPrefix, delayMs: ms(delay as ms.StringValue) });
        continue;
      }
      const kind = KIND_OF_STATUS.get(Number(status));
      const effect = effectOf(effectText);
      if (!kind || !effect) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not <route>:<4xx or 5xx of errors.ts>[+done|+late=<duration>]@order_<prefix> nor <route>:delay=<duration>@order_<prefix>`,
        });
        return z.NEVER;
      }
      rules.push({ route, kind, orderIdPrefix, effect });
    }
    return rules;
  });

/**
 * Answers a call to a named route about a named order with the rule's error, before its handler runs. A
 * call that still takes effect is served again inside the app (`inject`, marked so that no rule applies),
 * now or later.
 */
export function injectFaults(app: FastifyInstance, rules: FaultRule[]): void {
  if (rules.length === 0) return;
  const served = randomUUID(); // marks the calls this module makes again
  const timers = new Set<NodeJS.Timeout>();
  app.addHook('onClose', async () => {
    for (const timer of timers) clearTimeout(timer);
  });

  const serve = async (request: FastifyRequest, orderId: string) => {
    const { host: _host, 'content-length': _length, ...headers } = request.headers;
    const answer = await app.inject({
      method: request.method as 'POST',
      url: request.url,
      headers: { ...headers, 'x-fault-served': served },
      payload: request.body as object,
    });
    request.log.info(
      { orderId, status: answer.statusCode },
      'FAULTS: served the call whose answer is an injected error',
    );
  };

  app.addHook('preHandler', async (request) => {
    if (request.headers['x-fault-served'] === served) return;
    const orderId = (request.body as { orderId?: unknown } | undefined)?.orderId;
    if (typeof orderId !== 'string') return;
    const route = request.routeOptions.url?.slice(1);
    const rule = rules.find((candidate) => candidate.route === route && orderId.startsWith(candidate.orderIdPrefix));
    if (!rule) return;
    if ('delayMs' in rule) {
      await sleep(rule.delayMs);
      return;
    }
    if (rule.effect === 'done') await serve(request, orderId);
    else if (rule.effect !== 'none') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        serve(request, orderId).catch((error: unknown) =>
          request.log.error({ err: error }, 'FAULTS: the late call failed'),
        );
      }, rule.effect.lateMs);
      timers.add(timer);
    }
    throw new Problem(rule.kind, `${route} refused for ${orderId} (a fault injected by FAULTS)`);
  });
}
