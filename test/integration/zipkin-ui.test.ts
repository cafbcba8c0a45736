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
    // Tall: the timeline draws only the rows in view.
    viewport: { width: 1440, height: 1800 },
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
const row = (service: string, span: string) => page.getByText(`${service}: ${span}`, { exact: true });

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

const WORKFLOW = 'workflow orderworkflow';
/** Spans of the happy path from five processes (the sidecar's workflow span is among the last to arrive). */
const SERVICE_SPANS = [WORKFLOW, 'orchestration||orderworkflow', 'post /reserve', 'post /charge', 'post /ship'];
const MINUS = 'button path[d="M19 13H5v-2h14v2z"]';

/**
 * Folds what is detail so that the order's steps stand out: each notification's delivery, each service's
 * state calls, and whatever else `more` names; `keep` open subtrees are left as they are. A row's button
 * shows a minus while its subtree is open; the row's text runs on into its duration ("…post /ship58.9ms").
 */
async function foldDetail(more: string[] = [], keep = 0): Promise<void> {
  const names = [
    'publish notifications',
    ...['reserve', 'release', 'charge', 'refund', 'ship'].map((m) => `post /${m}`),
  ];
  const pattern = new RegExp(`: (${[...names, ...more].map((n) => n.replace(/[|/]/g, '\\$&')).join('|')})(?=\\d)`);
  for (let folded = 0; folded < 200; folded++) {
    const open = page
      .locator(ROW)
      .filter({ hasText: pattern })
      .filter({ has: page.locator(MINUS) })
      .nth(keep);
    if ((await open.count()) === 0) return;
    await open.locator('button').first().click();
  }
}

/** Opens the order's trace from its link, folded (see foldDetail). */
async function openTrace(traceUrl: string, fold: Parameters<typeof foldDetail> = []): Promise<void> {
  await page.goto(traceUrl);
  // The trace is named after its root: the request that placed the order.
  await page.getByRole('heading', { name: 'orderprocessing: post /orders' }).waitFor();
  await row('orderprocessing', WORKFLOW).waitFor();
  await foldDetail(...fold);
}

describe("an order's trace in Zipkin's UI", () => {
  it('opens from the link of GET /orders/:id, with the workflow, its steps and every service', async () => {
    const id = await placeOrder({ customer: 'Riley', items: ['milk', 'bread'], total: 12.5 });
    expect((await waitForOrder(id, finished)).status).toBe('COMPLETED');
    await openTrace(await traceUrlOnceComplete(id, SERVICE_SPANS));
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
    // The sidecar's view of the workflow folded, and every try of shipping but the first.
    await openTrace(await traceUrlOnceComplete(id, spans), [['orchestration||orderworkflow']]);
    await foldDetail(['invoke shipping/ship'], 1);
    await row('orderprocessing', 'activity shiporder').first().click();
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
    await openTrace(await traceUrlOnceComplete(id, [...SERVICE_SPANS, 'stage waiting_for_approval']));
    await row('orderprocessing', 'stage waiting_for_approval').click();
    await page.getByText('Span name').first().waitFor();
    await screenshot('zipkin-approval-wait');
  });

  it("finds an order's traces by its id", async () => {
    const id = await placeOrder({ customer: 'Quinn', items: ['apples'], total: 2 });
    await waitForOrder(id, finished);
    await traceUrlOnceComplete(id, [WORKFLOW]);
    const query = new URLSearchParams({ annotationQuery: `order.id=${id}`, lookback: '15m', limit: '10' });
    await page.goto(`${inject('zipkinUrl')}/zipkin/?${query}`);
    await page.getByRole('button', { name: /run query/i }).click();
    await page
      .getByText(/post \/orders/)
      .first()
      .waitFor();
    await screenshot('zipkin-find-order');
  });
});
