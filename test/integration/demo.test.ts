// demo.http, run top to bottom by a scripted .http client (httpyac) against this stack: every request is
// sent and every check its response script makes holds. Only the base URLs are this stack's.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoEnv } from '../../scripts/lib/demoEnv.ts';
import { repoRoot } from '../../scripts/lib/runtime.ts';
import { credentials, url } from './client.ts';

interface HttpyacReport {
  summary: { totalRequests: number; failedTests: number; erroredRequests: number; totalTests: number };
  requests: {
    title?: string;
    name: string;
    testResults?: { message: string; status: string; error?: { message?: string } }[];
  }[];
}

const dir = mkdtempSync(join(tmpdir(), 'dapr-orders-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo.http', () => {
  it('runs top to bottom in httpyac, and every answer is the one its comments describe', async () => {
    const demo = readFileSync(join(repoRoot, 'demo.http'), 'utf8');
    const requests = demo.split('\n').filter((line) => /^(GET|POST|DELETE|PUT) /.test(line)).length;
    const local = demo
      .replace('@api = http://localhost:3000', `@api = ${url('orderprocessing', '')}`)
      .replace('@shipping = http://localhost:3004', `@shipping = ${url('shipping', '')}`)
      .replace('@inventory = http://localhost:3002', `@inventory = ${url('inventory', '')}`)
      .replace('@payments = http://localhost:3003', `@payments = ${url('payments', '')}`);
    expect(local.match(/^@(api|shipping|inventory|payments) = http:\/\/127\.0\.0\.1:\d+$/gm)).toHaveLength(4);
    writeFileSync(join(dir, 'demo.http'), local);
    const known = credentials();
    writeDemoEnv(known, dir);

    const httpyac = join(repoRoot, 'node_modules/.bin/httpyac');
    const { stdout } = await promisify(execFile)(httpyac, ['send', 'demo.http', '--all', '--json'], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 60_000,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '{}' }));
    const report = JSON.parse(stdout) as HttpyacReport;

    const failures = report.requests.flatMap((request) =>
      (request.testResults ?? [])
        .filter((test) => test.status !== 'SUCCESS')
        .map((test) => `${request.title ?? request.name}: ${test.message} (${test.error?.message ?? test.status})`),
    );
    expect(failures).toEqual([]);
    expect(report.summary.erroredRequests).toBe(0);
    expect(report.summary.totalRequests).toBe(requests);
    expect(report.summary.totalTests).toBe(requests);
  }, 90_000);
});
