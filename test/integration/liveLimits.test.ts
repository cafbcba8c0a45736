// Issue #20's target for the live page, on the real stack: 1,000 SSE connection attempts plus one client
// that never reads, and the page still answers in under 1 s while the notifications service stays under
// the memory limit its Kubernetes manifest declares. Then the client that never reads is dropped once
// enough is written to it, instead of its backlog growing in the service.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../scripts/lib/runtime.ts';
import { apps, pollUntil, tokensOf, url } from './client.ts';

const port = () => apps().notifications?.appPort ?? 0;

/** The memory limit of the notifications container in deploy/kubernetes (e.g. 512Mi), in bytes. */
function declaredMemoryLimit(): number {
  const file = join(repoRoot, 'deploy/kubernetes/base/apps/notifications.yaml');
  for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const manifest = document.toJS() as {
      kind?: string;
      spec?: {
        template?: { spec?: { containers?: { name: string; resources?: { limits?: { memory?: string } } }[] } };
      };
    };
    if (manifest.kind !== 'Deployment') continue;
    const container = manifest.spec?.template?.spec?.containers?.find((each) => each.name === 'notifications');
    const [, amount, unit] = /^(\d+)(Mi|Gi)$/.exec(container?.resources?.limits?.memory ?? '') ?? [];
    if (amount) return Number(amount) * (unit === 'Gi' ? 2 ** 30 : 2 ** 20);
  }
  throw new Error(`no memory limit for notifications in ${file}`);
}

/** The process listening on a loopback TCP port, from /proc (Linux): the socket's inode, then its owner. */
function pidListeningOn(listenPort: number): number {
  const hex = `:${listenPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(hex) && fields[3] === '0A' && fields[9]) inodes.add(`socket:[${fields[9]}]`);
    }
  }
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      }
    } catch {
      // a process that ended, or not ours to look into
    }
  }
  throw new Error(`no process listens on port ${listenPort}`);
}

const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

interface Attempt {
  status: number;
  retryAfter?: string;
  message?: string;
  req: ClientRequest;
}

/** GET /events from `from` (any 127.0.0.0/8 address is loopback on Linux: one client each); reads and discards. */
function attempt(from: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: port(),
      path: '/events',
      localAddress: from,
      agent: false,
      headers: { accept: 'text/event-stream' },
    });
    req.on('error', reject);
    req.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const retryAfter = response.headers['retry-after'];
      if (status === 200) {
        response.resume(); // a client that reads
        req.removeListener('error', reject);
        req.on('error', () => {}); // torn down at the end
        resolve({ status, req });
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status, retryAfter, message: JSON.parse(body).message, req }));
    });
    req.end();
  });
}

/** Delivers a notification as the sidecar does (POST /notifications with the app token). */
async function deliver(name: string, text: string): Promise<void> {
  const orderId = `order_${name}_${Array.from(randomBytes(5), (byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('')}`;
  const data = { id: `${orderId}:received`, orderId, time: new Date().toISOString(), kind: 'received', text };
  const response = await fetch(url('notifications', '/notifications'), {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      'dapr-api-token': tokensOf('notifications').appApiToken,
    },
    body: JSON.stringify({ id: orderId, specversion: '1.0', source: 'orderprocessing', type: 'x', data }),
  });
  expect(response.status).toBe(200);
}

/** Times GET of the page and of its order list; both must answer 200. */
async function timePage(): Promise<number> {
  const started = performance.now();
  const [page, orders] = await Promise.all([
    fetch(url('notifications', '/')),
    fetch(url('notifications', '/api/orders')),
  ]);
  await Promise.all([page.text(), orders.text()]);
  expect([page.status, orders.status]).toEqual([200, 200]);
  return performance.now() - started;
}

const open: ClientRequest[] = [];
let stalled: Socket | undefined;
afterAll(() => {
  for (const req of open) req.destroy();
  stalled?.destroy();
});

describe('the live page under 1,000 connection attempts and a client that never reads', () => {
  it('caps them (429 per client, 503 overall, with Retry-After), answers in under 1 s and stays under the memory limit', async () => {
    const limit = declaredMemoryLimit();
    const pid = pidListeningOn(port());
    // A snapshot worth reading: 100 recent orders in the index, as on a busy day.
    for (let n = 0; n < 100; n++) await deliver('livelimits', 'Received order for livelimits: [milk]. Total = 1');

    // The client that never reads: it sends its request, and stops reading once its answer has begun.
    const client = connect({ host: '127.0.0.1', port: port(), localAddress: '127.0.4.1' });
    stalled = client;
    client.on('error', () => {}); // it may be reset when it is dropped
    client.write('GET /events HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\n\r\n');
    const firstBytes = await new Promise<string>((resolve) => client.once('data', (chunk) => resolve(String(chunk))));
    client.pause();
    expect(firstBytes).toMatch(/^HTTP\/1.1 200/);

    let peakRss = rssOf(pid);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(pid));
    }, 100);
    const pageTimes: number[] = [];
    let storming = true;
    const pageWhileStorming = (async () => {
      while (storming) {
        pageTimes.push(await timePage());
        await sleep(100);
      }
    })();

    // 1,000 attempts, 100 at a time: first 600 from 30 greedy clients (20 each; a client may hold 10),
    // then 400 from 100 others (4 each), when the service (which holds 500) has room for 199 more.
    const from = (n: number) => (n < 600 ? `127.0.3.${(n % 30) + 1}` : `127.0.5.${((n - 600) % 100) + 1}`);
    const started = performance.now();
    const answers: Attempt[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const batch = Array.from({ length: 100 }, (_, n) => attempt(from(wave * 100 + n)));
      for (const answer of await Promise.all(batch)) {
        answers.push(answer);
        if (answer.status === 200) open.push(answer.req);
      }
    }
    const stormMs = performance.now() - started;
    storming = false;
    await pageWhileStorming;
    for (let n = 0; n < 5; n++) pageTimes.push(await timePage()); // with all of them open
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssOf(pid));

    const count = (status: number) => answers.filter((answer) => answer.status === status).length;
    console.log(
      `live page: 1,000 attempts in ${Math.round(stormMs)} ms: ${count(200)} open, ${count(429)} × 429, ${count(503)} × 503; ` +
        `page and order list answered in ${Math.round(Math.max(...pageTimes))} ms at most (${pageTimes.length} times); ` +
        `notifications RSS peak ${(peakRss / 2 ** 20).toFixed(0)} MiB (limit ${(limit / 2 ** 20).toFixed(0)} MiB)`,
    );
    // The greedy clients 10 each (300), the others what is left of the 500 beside the stalled client (199).
    expect([count(200), count(429), count(503)]).toEqual([499, 300, 201]);
    for (const refused of answers.filter((answer) => answer.status !== 200)) {
      expect(refused.retryAfter).toBe('10');
      expect(refused.message).toMatch(/too many live connections from this client|as many connections as it can serve/);
    }
    expect(Math.max(...pageTimes)).toBeLessThan(1000);
    expect(peakRss).toBeLessThan(limit);

    // Every slot comes back when its connection ends.
    for (const req of open.splice(0)) req.destroy();
    await pollUntil(
      'the closed connections were not released',
      () => attempt('127.0.4.2'),
      (a) => {
        if (a.status === 200) open.push(a.req);
        return a.status === 200;
      },
      5_000,
    );
  });

  it('drops the client that never reads once over 256 KiB of events wait for it, not holding them all', async () => {
    if (!stalled) throw new Error('the stalled client of the test before is missing');
    const client = stalled;
    // 8 MB of notifications (160 × 50 KB): more than the kernel's socket buffers hold for it.
    const big = 'x'.repeat(50_000);
    for (let n = 0; n < 160; n++) await deliver('livebulky', big);

    // Now it reads: what the kernel had buffered, then the end of a stream the service dropped.
    let received = 0;
    const ended = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.resume();
    await Promise.race([
      ended,
      sleep(15_000).then(() => Promise.reject(new Error('the stalled client was not dropped'))),
    ]);
    console.log(
      `live page: the client that never read got ${(received / 2 ** 20).toFixed(1)} MiB of 7.6 MiB, then its end`,
    );
    expect(received).toBeLessThan(160 * 50_000);
    const log = readFileSync(join(inject('logDir'), 'notifications.log'), 'utf8');
    expect(log).toContain('a live client fell behind');

    // The bulky orders leave the index (it keeps the latest 100), so that the files after this one get
    // snapshots of the usual size.
    for (let n = 0; n < 100; n++) await deliver('livelimits', 'Received order for livelimits: [milk]. Total = 1');
  });
});
