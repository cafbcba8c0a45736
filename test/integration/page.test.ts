// The page at :3001 in a real browser: Debian's Chromium driven by playwright-core (never a browser
// download of Playwright's own). Orders are placed through the API; the page must show them live, let a
// person approve or reject, keep its history across a reload and a dropped connection, and show customer
// text as text. Leaves a screenshot in test-results/ (and in docs/ with UPDATE_SCREENSHOT=1).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/runtime.ts';
import {
  apps,
  call,
  credentials,
  finished,
  getOrder,
  placeOrder,
  url,
  waitForNotification,
  waitForOrder,
} from './client.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let context: BrowserContext;
let page: Page;
let userDataDir: string | undefined;
/** Alerts, confirms and prompts the page opened: there must be none. */
const dialogs: string[] = [];
/** The orders this file placed, whose lines must survive a reload. */
const placed: string[] = [];

const card = (id: string, state?: string) =>
  `#orders li.order[data-order-id="${id}"]${state ? `[data-state="${state}"]` : ''}`;
const line = (id: string, kind: string) => `#feed tr[data-id="${id}:${kind}"]`;

async function live(): Promise<void> {
  await page.waitForSelector('#connection[data-state="live"]', { timeout: 10_000 });
}

/** The page's lines of the given orders, top to bottom, as "order id | text". */
async function linesOf(ids: string[]): Promise<string[]> {
  return page.$$eval(
    '#feed tr',
    (rows, wanted) =>
      rows
        .filter((row) => wanted.includes((row as HTMLElement).dataset.orderId ?? ''))
        .map((row) => `${(row as HTMLElement).dataset.orderId} | ${row.querySelector('td.text')?.textContent}`),
    ids,
  );
}

/**
 * A TCP proxy in front of the notifications app that can cut every open connection and refuse new ones
 * (a dropped network), then let them through again. Notes each request's Last-Event-ID header.
 */
class DroppableProxy {
  private readonly sockets = new Set<Socket>();
  private down = false;
  readonly lastEventIds: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<DroppableProxy> {
    let proxy: DroppableProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new DroppableProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      const header = /^last-event-id: *(\S*)/im.exec(chunk.toString('latin1'));
      if (header?.[1]) this.lastEventIds.push(header[1]);
    });
    client.pipe(upstream).pipe(client);
  }

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The page tests need Chromium at ${CHROMIUM} and there is none: install it with "apt-get install -y chromium" (npm test does this itself).`,
    );
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'dapr-orders-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url('notifications', '/'));
  await live();
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('the notifications page', () => {
  it("hides customers' names until an approver signs in, then shows them", async () => {
    const id = await placeOrder({ customer: 'Quinn', items: ['milk'], total: 2 });
    const masked = id.replace(/^order_q[a-z0-9]*_/, 'order_q…_');
    await page.waitForSelector(card(masked), { timeout: 5_000 });
    expect(await page.textContent(`${card(masked)} .customer`)).toBe('Q…');
    expect(await page.isVisible('#access')).toBe(true);
    expect(await page.content()).not.toMatch(/quinn/i);

    await page.fill('#approver-token', credentials().approvers.chris ?? '');
    await page.waitForSelector(card(id), { timeout: 5_000 });
    expect(await page.textContent(`${card(id)} .customer`)).toBe('Quinn');
    expect(await page.isHidden('#access')).toBe(true);
    expect(await page.$(card(masked))).toBeNull();
  });

  it('shows a new order’s lines within 2 s, newest on top, and its state as it goes', async () => {
    const started = Date.now();
    const id = await placeOrder({ customer: 'Paige', items: ['milk', 'bread'], total: 7.5 });
    placed.push(id);
    await page.waitForSelector(line(id, 'received'), { timeout: 2_000 });
    expect(Date.now() - started).toBeLessThan(2_000);

    await page.waitForSelector(card(id, 'shipped'), { timeout: 15_000 });
    expect(await page.textContent(`${card(id)} .customer`)).toBe('Paige');
    expect(await page.textContent(`${card(id)} .state`)).toBe('shipped');
    expect(await linesOf([id])).toEqual([
      `${id} | Order submitted for shipping`,
      `${id} | Charged $7.5.`,
      `${id} | Reserved 2 item(s) for the order.`,
      `${id} | Received order for Paige: [milk, bread]. Total = 7.5`,
    ]);
  });

  it('approves an order waiting for approval with its button, and the order completes', async () => {
    await page.fill('#approver-token', credentials().approvers.chris ?? '');
    const id = await placeOrder({ customer: 'Alex', items: ['iPhone'], total: 1299 });
    placed.push(id);
    const approve = `${card(id, 'waiting_for_approval')} button[data-action="approve"]`;
    await page.waitForSelector(approve, { timeout: 5_000 });
    expect(await page.textContent(`${card(id)} .deadline`)).toMatch(/^deadline \d\d:\d\d:\d\d \(in \d+ s\)$/);
    await page.click(approve);

    await page.waitForSelector(card(id, 'shipped'), { timeout: 15_000 });
    expect(await page.textContent(`${card(id)} .note`)).toBe(`Approval by chris sent to order ${id}.`);
    expect(await page.$(line(id, 'approved'))).not.toBeNull();
    const order = await waitForOrder(id, finished);
    expect(order.status).toBe('COMPLETED');
    expect(order.order_result?.success).toBe(true);
  });

  it('rejects an order with its button, and the order is cancelled', async () => {
    const id = await placeOrder({ customer: 'Dana', items: ['iPhone'], total: 1500 });
    placed.push(id);
    const reject = `${card(id, 'waiting_for_approval')} button[data-action="reject"]`;
    await page.waitForSelector(reject, { timeout: 5_000 });
    // A wrong token is refused by orderprocessing, and the page says so.
    await page.fill('#approver-token', 'not-a-token-of-anyone');
    await page.click(reject);
    await page.waitForSelector(`${card(id)} .note.problem`);
    expect(await page.textContent(`${card(id)} .note`)).toBe('Not sent (401): unknown approver token');
    await page.fill('#approver-token', credentials().approvers.chris ?? '');
    await page.click(reject);
    await page.waitForSelector(card(id, 'cancelled'), { timeout: 15_000 });
    expect(await page.textContent(`${card(id)} .reason`)).toBe('rejected');
    expect((await waitForOrder(id, finished)).order_result?.message).toMatch(/rejected by chris/i);
  });

  it('marks an order the watchdog warns about, until it is no longer waiting', async () => {
    // In the test stack the watchdog warns 3 s before a 6 s approval deadline.
    const id = await placeOrder({ customer: 'Wren', items: ['iPhone'], total: 1250 });
    const mark = `${card(id, 'waiting_for_approval')} .flag[data-flag="approval_deadline_near"]`;
    await page.waitForSelector(mark, { timeout: 8_000 });
    expect(await page.textContent(mark)).toBe('⚠ deadline near');
    expect(await page.$(line(id, 'approval_deadline_near'))).not.toBeNull();
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'notifications-page-watchdog.png') });

    await call('orderprocessing', `/orders/${id}/cancel`, { method: 'POST', as: 'chris' });
    await page.waitForSelector(card(id, 'cancelled'), { timeout: 15_000 });
    expect(await page.$(`${card(id)} .flag`)).toBeNull();
  });

  it('shows a customer named like markup as that text, and runs nothing', async () => {
    const customer = '<img src=x onerror=alert(1)>';
    const id = await placeOrder({ customer, items: ['apples'], total: 1 });
    placed.push(id);
    await page.waitForSelector(line(id, 'received'), { timeout: 5_000 });
    await page.waitForSelector(card(id), { timeout: 5_000 });
    expect(await page.textContent(`${card(id)} .customer`)).toBe(customer);
    expect(await page.textContent(`${line(id, 'received')} td.text`)).toBe(
      `Received order for ${customer}: [apples]. Total = 1`,
    );
    await waitForOrder(id, finished);
    await page.waitForTimeout(300); // time for an injected image to fail and its handler to run
    expect(await page.$$('img')).toHaveLength(0);
    expect(dialogs).toEqual([]);
  });

  it('shows the same history after a reload', async () => {
    for (const id of placed)
      await waitForNotification(id, (await getOrder(id)).order_result?.success ? 'shipped' : 'rejected').catch(
        () => undefined,
      );
    const before = await linesOf(placed);
    const states = await page.$$eval('#orders li.order', (cards) =>
      cards.map((item) => `${(item as HTMLElement).dataset.orderId}=${(item as HTMLElement).dataset.state}`),
    );
    expect(before.length).toBeGreaterThanOrEqual(12);

    await page.reload();
    await live();
    await page.waitForSelector(line(placed[0] ?? '', 'received'));
    expect(await linesOf(placed)).toEqual(before);
    const after = await page.$$eval('#orders li.order', (cards) =>
      cards.map((item) => `${(item as HTMLElement).dataset.orderId}=${(item as HTMLElement).dataset.state}`),
    );
    for (const id of placed) {
      expect(after.find((entry) => entry.startsWith(`${id}=`))).toBe(
        states.find((entry) => entry.startsWith(`${id}=`)),
      );
    }
  });

  it('shows "reconnecting" when the connection drops, and afterwards what happened meanwhile', async () => {
    // The page is served through a proxy that can cut every connection, as a flaky network would.
    const proxy = await DroppableProxy.start(apps().notifications?.appPort ?? 0);
    const dropped = await context.newPage();
    try {
      await dropped.goto(`http://127.0.0.1:${proxy.port}/`);
      await dropped.waitForSelector('#connection[data-state="live"]');
      proxy.cut();
      await dropped.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 5_000 });
      expect(await dropped.textContent('#connection')).toBe('reconnecting…');

      const id = await placeOrder({ customer: 'Offline', items: ['oranges', 'milk'], total: 3 });
      placed.push(id);
      await waitForNotification(id, 'received');
      expect(await dropped.$(line(id, 'received'))).toBeNull();

      proxy.restore();
      await dropped.waitForSelector(line(id, 'received'), { timeout: 10_000 });
      await dropped.waitForSelector('#connection[data-state="live"]');
      expect(proxy.lastEventIds.some((id) => /^\d+$/.test(id))).toBe(true); // it picked up where it was
    } finally {
      await dropped.close();
      await proxy.close();
    }
  });

  it('fits a phone screen', async () => {
    const phone = await context.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(url('notifications', '/'));
      await phone.waitForSelector('#connection[data-state="live"]');
      await phone.waitForSelector('#feed tr');
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
      await phone.screenshot({ path: join(repoRoot, 'test-results', 'notifications-page-phone.png') });
    } finally {
      await phone.close();
    }
  });

  it('leaves a screenshot with an order waiting for approval', async () => {
    const id = await placeOrder({ customer: 'Morgan', items: ['iPhone', 'milk'], total: 1250 });
    await page.fill('#filter', '');
    await page.waitForSelector(`${card(id, 'waiting_for_approval')} button[data-action="approve"]`, {
      timeout: 5_000,
    });
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    const file = join(repoRoot, 'test-results', 'notifications-page.png');
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: file });
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(repoRoot, 'docs'), { recursive: true });
      copyFileSync(file, join(repoRoot, 'docs', 'notifications-page.png'));
    }
    await waitForOrder(id, finished, 20_000); // its approval times out (6 s in the test stack)
  });
});
