// What a person sees in Zipkin's own UI, in Debian's Chromium: the link GET /orders/:id gives opens the
// order's trace, a failed step says why, the approval wait is there, and a search by order id finds the
// order. Leaves screenshots in test-results/ (and in docs/, for zipkin.md, with UPDATE_SCREENSHOT=1).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/runtime.ts';
import { LATEST_VERSION, versionNumbered } from '../../services/orderprocessing/src/workflow/versions.ts';
import { call, finished, placeOrder, waitForOrder, waitingForApproval } from './client.ts';

const CHROMIUM = '/usr/bin/chromium';
let context: BrowserContext;
let page: Page;
let userDataDir: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The Zipkin UI tests need Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium".`);
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'dapr-orders-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    // Tall: the timeline draws only the rows in view (the screenshots keep the top 1800 px).
    viewport: { width: 1440, height: 2400 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** The page down to its last timeline row (the viewport is taller than a folded trace). */
async function screenshot(name: string): Promise<void> {
  const file = join(repoRoot, 'test-results', `${name}.png`);
  mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
  const rows = page.locator(ROW);
  const last = (await rows.count()) > 0 ? await rows.last().boundingBox() : null;
  const height = last ? Math.min(1800, Math.ceil(last.y + last.height + 16)) : 900;
  await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 1440, height } });
  if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(file, join(repoRoot, 'docs', `${name}.png`));
}

/** A row of the trace's timeline (the UI draws only those in view). */
const ROW = 'div[style*="height: 30px"]';
/** A row's name, as the UI writes it: "service: span name". */
/** The first row of that span (a retried step has several). */
const row = (service: string, span: string) => page.getByText(`${service}: ${span}`, { exact: true }).first();

/**
 * The finished order's trace_url, once Zipkin has the spans named (each app and sidecar sends its spans
 * in batches, every few seconds).
 */
async function traceUrlOnceComplete(id: string, names: string[]): Promise<string> {
  const view = (await call<{ trace_id: string; trace_url: string }>('orderprocessing', `/orders/${id}`)).body;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${inject('zipkinUrl')}/api/v2/trace/${view.trace_id}`);
    const spans = response.ok ? ((await response.json()) as { name: string }[]) : [];
    if (names.every((name) => spans.some((span) => span.name === name))) return view.trace_url;
    await sleep(500);
  }
  throw new Error(`the trace of ${id} lacks one of ${names.join(', ')} after 30 s`);
}

/** The orders a trace's spans name (their `order.id` tags). */
async function ordersNamedIn(traceId: string): Promise<string[]> {
  const response = await fetch(`${inject('zipkinUrl')}/api/v2/trace/${traceId}`);
  const spans = (await response.json()) as { tags?: Record<string, string> }[];
  return spans.flatMap((span) => span.tags?.['order.id'] ?? []);
}

const WORKFLOW = 'workflow orderworkflow';
/** Spans of the happy path from five processes (the sidecar's workflow span is among the last to arrive). */
/** The sidecar's span of the workflow, named after the version new orders start on. */
const ORCHESTRATION = `orchestration||${versionNumbered(LATEST_VERSION).name.toLowerCase()}`;
const SERVICE_SPANS = [WORKFLOW, ORCHESTRATION, 'post /reserve', 'post /charge', 'post /ship'];
const MINUS = 'button path[d="M19 13H5v-2h14v2z"]';

/** Rows to open, as regular expressions over "service: span name". */
const ROOT = 'orderprocessing: post /orders';
const ENGINE = ['orderprocessing: /taskhubsidecarservice/startinstance', 'orderprocessing: \\S*orderworkflow\\S*'];
const WORKFLOW_ROW = `orderprocessing: ${WORKFLOW}`;
const STEPS = [WORKFLOW_ROW, 'orderprocessing: activity \\w+'];
const CALLS = ['\\w+: calllocal/\\S+'];

/**
 * Opens the order's trace from its link with only the rows that `open` names opened (each one's children
 * shown), and the first row only of each that `openFirst` names: every other subtree stays folded. (Folding
 * the detail away instead takes a click per subtree, and the UI redraws a long trace for seconds on each.)
 * A row's button shows a minus while it is open; its text runs on into its duration ("…post /ship58.9ms").
 */
async function openTrace(traceUrl: string, open: string[], openFirst: string[] = []): Promise<void> {
  await page.goto(traceUrl);
  // The trace is named after its root: the request that placed the order.
  await page.getByRole('heading', { name: ROOT }).waitFor();
  await row('orderprocessing', WORKFLOW).waitFor();
  await page.locator('button[title="Collapse all"]').click();
  await page.evaluate(
    async ({ open, openFirst, row, minus }) => {
      const pattern = (source: string) => new RegExp(`^\\d*${source}(?=\\d)`);
      const always = open.map(pattern);
      const once = openFirst.map(pattern);
      const used = new Set<number>();
      for (let opened = 0; opened < 200; opened++) {
        const next = Array.from(document.querySelectorAll(row)).find((element) => {
          const text = element.textContent ?? '';
          if (!element.querySelector('button') || element.querySelector(minus)) return false;
          if (always.some((wanted) => wanted.test(text))) return true;
          const first = once.findIndex((wanted, index) => !used.has(index) && wanted.test(text));
          if (first < 0) return false;
          used.add(first);
          return true;
        });
        const button = next?.querySelector('button');
        if (!button) return;
        button.click();
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    },
    { open, openFirst, row: ROW, minus: MINUS },
  );
}

// A long trace takes a while to arrive whole and to draw: more than the default minute on a busy machine.
describe("an order's trace in Zipkin's UI", { timeout: 120_000 }, () => {
  it('opens from the link of GET /orders/:id, with the workflow, its steps and every service', async () => {
    const id = await placeOrder({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    await openTrace(await traceUrlOnceComplete(id, SERVICE_SPANS), [ROOT, ...ENGINE, ...STEPS, ...CALLS]);
    for (const step of ['reserveinventory', 'chargepayment', 'shiporder']) {
      await row('orderprocessing', `activity ${step}`).waitFor();
    }
    await row('inventory', 'post /reserve').waitFor();
    await row('payments', 'post /charge').waitFor();
    await row('shipping', 'post /ship').waitFor();
    await row('orderprocessing', WORKFLOW).click();
    await page.getByText(id, { exact: true }).first().waitFor(); // its order.id tag, in the span's details
    await screenshot('zipkin-order-trace');
  });

  it("shows a failed order's failing step with its cause, then the compensations", async () => {
    expect((await call('shipping', '/shipping/deactivate', { method: 'POST', as: 'admin' })).status).toBe(200);
    let id: string;
    try {
      id = await placeOrder({ customer: 'Sam', items: ['apples'], total: 3 });
      expect((await waitForOrder(id, finished)).status).toBe('FAILED');
    } finally {
      await call('shipping', '/shipping/activate', { method: 'POST', as: 'admin' });
    }
    const spans = [...SERVICE_SPANS, 'post /refund', 'post /release'];
    // Every step, and the first try of shipping down to the shipping service.
    await openTrace(
      await traceUrlOnceComplete(id, spans),
      [ROOT, WORKFLOW_ROW],
      [
        'orderprocessing: activity shiporder',
        'orderprocessing: calllocal/shipping/ship',
        'shipping: calllocal/shipping/ship',
      ],
    );
    await row('shipping', 'post /ship').waitFor();
    await row('orderprocessing', 'activity shiporder').click();
    await page
      .getByText(/shipping is deactivated for maintenance \(HTTP 503\)/)
      .first()
      .waitFor();
    await row('orderprocessing', 'activity refundpayment').waitFor();
    await row('orderprocessing', 'activity releaseinventory').waitFor();
    await screenshot('zipkin-failed-order');
  });

  it('shows the wait for approval as a span between the reservation and the charge', async () => {
    const id = await placeOrder({ customer: 'Dana', items: ['iPhone'], total: 1299 });
    await waitForOrder(id, waitingForApproval);
    await sleep(3_000);
    await call('orderprocessing', `/orders/${id}/approve`, { body: { approved: true }, as: 'chris' });
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    const spans = [...SERVICE_SPANS, 'stage waiting_for_approval'];
    await openTrace(await traceUrlOnceComplete(id, spans), [ROOT, ...ENGINE, ...STEPS, ...CALLS]);
    await row('orderprocessing', 'stage waiting_for_approval').click();
    await page.getByText('Span name').first().waitFor();
    await screenshot('zipkin-approval-wait');
  });

  it("finds an order's traces by its id, and no other order's", async () => {
    const [id, other] = await Promise.all([
      placeOrder({ customer: 'Quinn', items: ['apples'], total: 2 }),
      placeOrder({ customer: 'Quincy', items: ['apples'], total: 2 }),
    ]);
    await Promise.all([waitForOrder(id, finished), waitForOrder(other, finished)]);
    const [traceUrl, otherUrl] = await Promise.all([
      traceUrlOnceComplete(id, [WORKFLOW]),
      traceUrlOnceComplete(other, [WORKFLOW]),
    ]);
    // Each time the test polled GET /orders/:id is a trace of its own that names the order: room for them all.
    const query = new URLSearchParams({ annotationQuery: `order.id=${id}`, lookback: '15m', limit: '50' });
    await page.goto(`${inject('zipkinUrl')}/zipkin/?${query}`);
    await page.getByRole('button', { name: /run query/i }).click();
    await page.getByText('orderprocessing: post /orders', { exact: true }).waitFor();

    // One result is the order's trace, placed by POST /orders; the others are requests about the order
    // (GET /orders/:id as the test polled it). Not one is the other order's.
    expect(await page.getByText('orderprocessing: post /orders', { exact: true }).count()).toBe(1);
    const links = await page
      .locator('a[href*="/zipkin/traces/"]')
      .evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href') ?? ''));
    const traceIds = links.map((link) => link.split('/').at(-1) ?? '');
    expect(traceIds).toContain(traceUrl.split('/').at(-1));
    expect(traceIds).not.toContain(otherUrl.split('/').at(-1));
    for (const traceId of traceIds) expect(await ordersNamedIn(traceId)).toContain(id);
    await screenshot('zipkin-find-order');
  });
});
