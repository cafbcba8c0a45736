// `npm run soak`: does storage stay bounded? Orders at a steady rate for minutes, on a stack of its own with
// retentions of seconds, while Redis's memory and keys, the notifications stream, the scheduler's data and
// every process's RSS are sampled. Then every order is checked (terminal, charged once), and a table, a
// JSON file and an SVG chart say, per series, whether it levelled off over the second half of the run.
//
//   npm run soak -- [--duration 10m] [--rate 20] [--retention 30s] [--sample 5s] [--stream-cap 5000]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import ms from 'ms';
import { Agent, request } from 'undici';
import { bootstrap } from '../scripts/bootstrap.ts';
import { run } from '../scripts/lib/proc.ts';
import { repoRoot } from '../scripts/lib/runtime.ts';
import { TestStack } from '../scripts/lib/stack.ts';
import { formatDuration, info, main, ScriptError } from '../scripts/lib/ui.ts';
import { residentKiB } from './rss.ts';
import { chart, type Sample, type SeriesSpec, table, verdicts } from './soakReport.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    rate: { type: 'string', default: '20' },
    retention: { type: 'string', default: '30s' },
    sample: { type: 'string', default: '5s' },
    'stream-cap': { type: 'string', default: '5000' },
    'results-dir': { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  },
});

const millis = (name: string, text: string) => {
  const value = ms(text as ms.StringValue);
  if (typeof value !== 'number' || !(value > 0)) throw new ScriptError(`--${name} needs a duration such as 30s or 10m`);
  return value;
};
const settings = {
  durationMs: millis('duration', values.duration),
  rate: Number(values.rate),
  retention: values.retention,
  sampleMs: millis('sample', values.sample),
  streamCap: Number(values['stream-cap']),
  resultsDir: resolve(values['results-dir'] ?? join(repoRoot, 'bench', 'results')),
};
if (!(settings.rate > 0 && settings.rate <= 200)) throw new ScriptError('--rate needs orders per second from 1 to 200');

const APPS = ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping'];
const stack = new TestStack({
  orderHistoryRetention: settings.retention,
  streamMaxLen: settings.streamCap,
  env: Object.fromEntries(
    APPS.map((appId) => [
      appId,
      {
        // Every retention short, also of what is kept for good by default (ids, ledger): all of it expires.
        ORDER_RECORD_RETENTION: settings.retention,
        ORDER_ID_RETENTION: settings.retention,
        LEDGER_RETENTION: settings.retention,
        ...(appId === 'inventory' ? { INVENTORY_STOCK: 'milk=100000000,bread=100000000,iPhone=100000000' } : {}),
        ...(appId === 'orderprocessing' ? { LOG_LEVEL: 'warn' } : {}),
      },
    ]),
  ),
  keepLogs: values['keep-logs'],
});
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

/** Answers of 503 ("try again in a moment") that a call was tried again after, as a patient client would. */
const unavailable: string[] = [];

async function call<T>(appId: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  for (let attempt = 1; ; attempt++) {
    const answer = await request(`${stack.url(appId)}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: agent,
    });
    const parsed = (await answer.body.json()) as T;
    if (answer.statusCode !== 503 || attempt >= 3) return { status: answer.statusCode, body: parsed };
    unavailable.push(`${path}: ${(parsed as { message?: string }).message}`);
    await sleep(200);
  }
}

/** One order: one in ten is big and approved at once (a decision kept until its wait begins). */
async function placeOne(n: number): Promise<string> {
  const big = n % 10 === 9;
  const order = {
    customer: `soak${n % 100}`,
    items: big ? ['iPhone', 'milk'] : ['milk', 'bread'],
    total: big ? 1500 : 4,
  };
  const placed = await call<{ id: string }>('orderprocessing', '/orders', order);
  if (placed.status !== 202) throw new Error(`POST /orders answered ${placed.status}`);
  if (big) {
    const approver = { authorization: `Bearer ${stack.credentials.approvers.chris}` };
    const decided = await call('orderprocessing', `/orders/${placed.body.id}/approve`, { approved: true }, approver);
    if (decided.status !== 202) throw new Error(`approve answered ${decided.status}`);
  }
  return placed.body.id;
}

/**
 * Every order is checked while its records live (all retentions are short here): it must end COMPLETED
 * with success, charged exactly once. Checked 2 s after it was placed, then every half second for 10 s.
 */
async function check(id: string, problems: string[]): Promise<void> {
  await sleep(2_000);
  const internal = { 'dapr-api-token': stack.credentials.apps.payments?.appApiToken ?? '' };
  for (let attempt = 0; attempt < 20; attempt++) {
    const order = await call<{ status: string; order_result?: { success: boolean } }>(
      'orderprocessing',
      `/orders/${id}`,
    );
    if (order.body.status === 'RUNNING' || order.body.status === 'PENDING') {
      await sleep(500);
      continue;
    }
    const ledger = await call<{ entries: { kind: string }[] }>('payments', `/payments/${id}`, undefined, internal);
    const charges = ledger.body.entries.map((entry) => entry.kind).join();
    if (order.body.status !== 'COMPLETED' || !order.body.order_result?.success)
      problems.push(`${id} is ${order.body.status}`);
    else if (charges !== 'charge') problems.push(`${id}'s ledger is [${charges}]`);
    return;
  }
  problems.push(`${id} did not finish within 12 s`);
}

function redis(...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(stack.redisPort), ...args], { encoding: 'utf8' }).trim();
}

function sampleNow(t: number): Sample {
  const usedMemory = Number(/used_memory:(\d+)/.exec(redis('INFO', 'memory'))?.[1] ?? 0);
  const values: Record<string, number> = {
    'Redis memory': usedMemory / 1048576,
    'Redis keys': Number(redis('DBSIZE')),
    'notifications stream': Number(redis('XLEN', 'notifications')),
    "scheduler's data":
      Number(execFileSync('du', ['-sk', join(stack.dir, 'scheduler')], { encoding: 'utf8' }).split('\t')[0]) / 1024,
  };
  for (const { name, pid } of stack.processes()) {
    try {
      values[`RSS ${name}`] = residentKiB(readFileSync(`/proc/${pid}/statm`, 'utf8'), 4) / 1024;
    } catch {
      // gone: not sampled this time
    }
  }
  return { t, values };
}

main(async () => {
  await bootstrap({ reuseRunning: false, chromium: false });
  info(
    `▸ soak: ${settings.rate} orders/s for ${formatDuration(settings.durationMs)}, retentions ${settings.retention}, stream cap ${settings.streamCap}`,
  );
  await stack.start();
  const began = Date.now();
  const ids: string[] = [];
  const errors: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const problems: string[] = [];
  const checks: Promise<void>[] = [];
  const samples: Sample[] = [];
  try {
    let next = began;
    let n = 0;
    let nextSample = began;
    while (Date.now() - began < settings.durationMs) {
      if (Date.now() >= nextSample) {
        const sample = sampleNow((Date.now() - began) / 1000);
        samples.push(sample);
        nextSample += settings.sampleMs;
        const v = sample.values;
        info(
          `  … ${Math.round(sample.t)} s: ${ids.length} orders, ${errors.length} errors; Redis ${v['Redis memory']?.toFixed(1)} MiB, ${v['Redis keys']} keys; stream ${v['notifications stream']}`,
        );
      }
      const order = placeOne(n++)
        .then((id) => {
          ids.push(id);
          checks.push(check(id, problems));
        })
        .catch((error: unknown) => void errors.push(String(error)));
      inFlight.add(order);
      void order.finally(() => inFlight.delete(order));
      next += 1000 / settings.rate;
      await sleep(Math.max(0, next - Date.now()));
    }
    await Promise.all(inFlight);
    samples.push(sampleNow((Date.now() - began) / 1000));

    info(`▸ the last of ${ids.length} orders are checked…`);
    await Promise.all(checks);

    const specs: SeriesSpec[] = [
      { name: 'Redis memory', unit: 'MiB', limitPercent: 5 },
      { name: 'Redis keys', unit: '', limitPercent: 5 },
      { name: 'notifications stream', unit: 'entries', limitPercent: 5 },
      // etcd's data grows in 64 MB steps (a write-ahead log file at a time) up to the files it keeps: two
      // logs and the one being written, two snapshots and the database (scripts/lib/infra.ts).
      { name: "scheduler's data", unit: 'MiB', limitPercent: 10, ceiling: 3 * 64 + 2 * 40 + 40 },
      ...stack.processes().map(({ name }) => ({ name: `RSS ${name}`, unit: 'MiB', limitPercent: 10 })),
    ];
    const rows = verdicts(samples, specs);
    const atCap = (rows.find((row) => row.name === 'notifications stream')?.last ?? 0) >= settings.streamCap * 0.9;
    const stamp = new Date(began)
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z');
    mkdirSync(settings.resultsDir, { recursive: true });
    const commit = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    const result = {
      startedAt: new Date(began).toISOString(),
      commit,
      settings,
      orders: ids.length,
      errors,
      problems,
      unavailable,
      streamAtCap: atCap,
      rows,
      samples,
    };
    writeFileSync(join(settings.resultsDir, `soak-${stamp}.json`), JSON.stringify(result, null, 1));
    writeFileSync(join(settings.resultsDir, `soak-${stamp}.svg`), chart(samples, rows, `soak ${stamp}`));
    info(
      `\nsoak report (${stamp}, code ${commit}): ${ids.length} orders, ${errors.length} errors, ${problems.length} orders wrong, ${unavailable.length} answers of 503 tried again`,
    );
    for (const line of [...new Set(unavailable)].slice(0, 5)) info(`  503: ${line}`);
    info(table(rows));
    info(`stream at its cap (${settings.streamCap}): ${atCap ? '✓' : '✗'}`);
    info(`written: ${join(settings.resultsDir, `soak-${stamp}.json`)} and .svg`);
    if (errors.length > 0 || problems.length > 0)
      throw new ScriptError(`${errors[0] ?? problems[0]} (and ${errors.length + problems.length - 1} more)`);
  } finally {
    await stack.stop();
  }
});
