// Two promises of the README about logs, checked in the stack's own log files (TestStack.logDir): tokens
// are never logged, and every line written for an order carries its trace_id. Which lines an order's
// requests wrote is told by its trace in Zipkin (each request's span id), not by the trace_id under test.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  call,
  credentials,
  finished,
  ledger,
  placeOrder,
  pollUntil,
  waitForOrder,
  waitingForApproval,
} from './client.ts';
import { listOrders } from './orderListClient.ts';
import { hasAll, orderTrace } from './zipkin.ts';

interface LogLine {
  msg?: string;
  reqId?: string;
  trace_id?: string;
  span_id?: string;
  req?: { method?: string; url?: string };
}

/** An app's log (its first replica's), as pino wrote it: one JSON object a line. */
function appLog(appId: string): LogLine[] {
  const text = readFileSync(join(inject('logDir'), `${appId}.log`), 'utf8');
  return text.split('\n').flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as LogLine] : []));
}

/** Polls an app's log until `done` holds for its lines (they reach the file a moment after the answer). */
const linesOnceLogged = (appId: string, done: (lines: LogLine[]) => boolean) =>
  pollUntil(`${appId}'s log did not get there`, async () => appLog(appId), done, 5_000);

describe('the logs', () => {
  it("never hold a token: the approvers', the admin's, the apps' and the sidecars', nor one refused", async () => {
    const refused = randomBytes(24).toString('hex');
    const id = await placeOrder({ customer: 'Tokens', items: ['milk'], total: 1200 });
    await waitForOrder(id, waitingForApproval);
    const approve = `/orders/${id}/approve`;
    const stranger = { authorization: `Bearer ${refused}` };
    expect((await call('orderprocessing', approve, { body: { approved: true }, headers: stranger })).status).toBe(401);
    expect((await call('orderprocessing', approve, { body: { approved: true }, as: 'chris' })).status).toBe(202);
    await waitForOrder(id, finished);
    expect((await listOrders({ customer: 'Tokens' }, 'admin')).status).toBe(200);
    expect(await ledger(id)).toHaveLength(1); // payments, called directly with the app token

    // The scan sees the requests that carried them: both approvals, answered.
    const approvals = (line: LogLine) => line.req?.url === approve;
    await linesOnceLogged('orderprocessing', (lines) => lines.filter(approvals).length === 2);
    const { approvers, admin, apps } = credentials();
    const appTokens = Object.entries(apps).flatMap(([appId, each]): [string, string][] => [
      [`${appId} Dapr API token`, each.daprApiToken],
      [`${appId} app token`, each.appApiToken],
    ]);
    const tokens = { ...approvers, admin, ...Object.fromEntries(appTokens), refused };
    const files = readdirSync(inject('logDir'));
    expect(files).toEqual(expect.arrayContaining(['orderprocessing.log', 'payments.log', 'orderprocessing-daprd.log']));
    for (const file of files) {
      const text = readFileSync(join(inject('logDir'), file), 'utf8');
      for (const [whose, token] of Object.entries(tokens))
        expect(text.includes(token), `${whose} in ${file}`).toBe(false);
    }
  });

  it("carry the order's trace_id on every line its requests wrote, in every service", async () => {
    const id = await placeOrder({ customer: 'Traced', items: ['milk'], total: 4 });
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    const traceId = (await call<{ trace_id: string }>('orderprocessing', `/orders/${id}`)).body.trace_id;
    const steps = ['post /orders', 'post /reserve', 'post /charge', 'post /ship'];
    const trace = await orderTrace(id, traceId, hasAll(...steps));

    // The apps' own request spans (named after their route), each with the lines its request wrote.
    const requests = trace.spans.filter((span) => span.kind === 'SERVER' && span.tags?.['http.route']);
    expect(requests.map((span) => span.name)).toEqual(expect.arrayContaining(steps));
    for (const span of requests) {
      const appId = span.localEndpoint?.serviceName ?? '';
      const ofRequest = (line: LogLine) => line.span_id === span.id;
      const lines = (await linesOnceLogged(appId, (all) => all.filter(ofRequest).length >= 2)).filter(ofRequest);
      expect(lines.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
      expect(lines.map((line) => line.trace_id)).toEqual([traceId, traceId]);
    }

    // Requests about the order afterwards (GET /orders/:id) are traces of their own: each line has one,
    // the same as the other line of its request.
    const aboutIt = appLog('orderprocessing').filter((line) => line.req?.url === `/orders/${id}`);
    expect(aboutIt.length).toBeGreaterThan(0);
    for (const line of aboutIt) {
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
      const answered = appLog('orderprocessing').find((other) => other.reqId === line.reqId && other !== line);
      expect(answered?.trace_id).toBe(line.trace_id);
    }
  });
});
