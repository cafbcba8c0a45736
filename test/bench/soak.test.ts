// `npm run soak`, end to end on the real stack, in its shortest form: orders at a steady rate with
// retentions of seconds, every one of them checked while its records live, and the report written with
// every series sampled. Whether the series level off is the full soak's business (10 minutes), not this.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { run } from '../../scripts/lib/proc.ts';
import { repoRoot } from '../../scripts/lib/runtime.ts';

const resultsDir = mkdtempSync(join(tmpdir(), 'dapr-orders-soak-'));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

it('places orders at a steady rate, checks every one, and writes the report and the chart', async () => {
  const soak = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench', 'soak.ts'),
      ...['--duration', '10s', '--rate', '10', '--retention', '6s', '--sample', '1s', '--stream-cap', '300'],
      ...['--results-dir', resultsDir],
    ],
    { cwd: repoRoot },
  );
  expect(soak.code, `${soak.stdout}\n${soak.stderr}`.slice(-3000)).toBe(0);

  const json = readdirSync(resultsDir).find((name) => name.endsWith('.json'));
  const report = JSON.parse(readFileSync(join(resultsDir, json ?? ''), 'utf8'));
  expect(report.orders).toBeGreaterThanOrEqual(95);
  expect(report.errors).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(report.streamAtCap).toBe(true);
  const names = report.rows.map((row: { name: string }) => row.name);
  expect(names).toEqual(
    expect.arrayContaining(['Redis memory', 'Redis keys', 'notifications stream', 'RSS orderprocessing']),
  );
  expect(report.samples.length).toBeGreaterThanOrEqual(10);
  expect(readdirSync(resultsDir).some((name) => name.endsWith('.svg'))).toBe(true);
}, 180_000);
