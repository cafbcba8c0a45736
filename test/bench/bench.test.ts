// `npm run bench`, end to end on the real stack, in its shortest form: every workload (the floor, the floor
// plus an order's Dapr calls, orders) completes at 1 in flight and under a small load with no errors, and
// the report it writes says so. The figures themselves are the benchmark's business, not a test's.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { BenchResult } from '../../bench/report.ts';
import { run } from '../../scripts/lib/proc.ts';
import { repoRoot } from '../../scripts/lib/runtime.ts';

const resultsDir = mkdtempSync(join(tmpdir(), 'dapr-orders-bench-'));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

it('runs every workload without errors and writes a complete report', async () => {
  const bench = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench', 'run.ts'),
      // One round: the rounds' medians and order are the unit tests' business (bench/rounds.test.ts).
      ...['--concurrency', '3', '--duration', '2s', '--latency-count', '3', '--warmup-count', '3', '--rounds', '1'],
      ...['--no-readme', '--results-dir', resultsDir],
    ],
    { cwd: repoRoot },
  );
  expect(bench.code, `${bench.stdout}\n${bench.stderr}`.slice(-3000)).toBe(0);

  const file = readdirSync(resultsDir).find((name) => name.endsWith('.json'));
  expect(file, 'the JSON report').toBeDefined();
  const report = JSON.parse(readFileSync(join(resultsDir, file ?? ''), 'utf8')) as BenchResult;
  expect(report.complete).toBe(true);
  expect(report.phases.filter((phase) => !phase.warmUp).map((phase) => phase.name)).toEqual([
    'orders ×1, round 1',
    'calls ×1, round 1',
    'floor ×1, round 1',
    'orders ×3, round 1',
    'calls ×3, round 1',
    'floor ×3, round 1',
  ]);
  for (const phase of report.phases) {
    expect(phase.errorSamples, phase.name).toEqual([]);
    expect(phase.completed, phase.name).toBeGreaterThan(0);
  }
  // Every process of the stack was watched, and had memory and used CPU while the orders ran.
  const underLoad = report.usage.find((usage) => usage.phase === 'orders ×3, round 1');
  // Redis, Sentry, placement, scheduler, and 5 apps with their sidecars.
  expect(report.stackProcesses).toHaveLength(14);
  for (const name of report.stackProcesses) expect(underLoad?.peakMiB[name], name).toBeGreaterThan(0);
  const orders = report.summaries.find((summary) => summary.kind === 'orders' && summary.concurrency === 3);
  expect(orders?.stackCpuMs?.median).toBeGreaterThan(0);
  expect(report.targets.map((target) => target.name)).toHaveLength(6);
  expect(readFileSync(join(resultsDir, file?.replace(/\.json$/, '.md') ?? ''), 'utf8')).toContain(
    "The floor plus an order's Dapr calls, the best an order could do",
  );
});
