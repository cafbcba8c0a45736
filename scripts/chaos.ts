// `npm run test:chaos`: the full chaos run (40 orders, 12 kills) on a stack of its own, once or, with
// `--runs N`, N times in a row with a new seed each; it stops at the first run with a problem and prints
// that run's report. `--seed S` repeats a run. `--replicas 2`: two replicas of every app, whole replicas
// killed and every service restarted rolling (60 orders, 10 kills by default).
//
//   npm run test:chaos -- [--runs 10] [--replicas 2] [--orders N] [--kills N] [--seed S] [--keep-logs]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChaosReport } from '../test/chaos/report.ts';
import { run } from './lib/proc.ts';
import { repoRoot } from './lib/runtime.ts';
import { formatDuration, info, main, ScriptError } from './lib/ui.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    orders: { type: 'string' },
    kills: { type: 'string' },
    replicas: { type: 'string', default: '1' },
    seed: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  },
});

const positive = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new ScriptError(`--${name} needs a whole number of 1 or more, not "${text}"`);
  return value;
};

main(async () => {
  const runs = positive('runs', values.runs);
  // --replicas 2 (every app), or per app as REPLICAS takes it: inventory:3,payments:2.
  const replicas = /^\d+$/.test(values.replicas) ? positive('replicas', values.replicas) : 2;
  const firstSeed = values.seed === undefined ? Date.now() % 100_000 : positive('seed', values.seed);
  const dir = mkdtempSync(join(tmpdir(), 'dapr-orders-chaos-'));
  const began = Date.now();
  const summary: string[] = [];
  try {
    for (let n = 1; n <= runs; n++) {
      const seed = (firstSeed + (n - 1) * 7919) % 100_000 || 1;
      const reportFile = join(dir, `run-${n}.json`);
      info(`▸ chaos run ${n} of ${runs} (seed ${seed})…`);
      const result = await run('npx', ['vitest', 'run', '--project', 'chaos'], {
        cwd: repoRoot,
        inherit: true,
        env: {
          ...process.env,
          CHAOS_ORDERS: String(positive('orders', values.orders ?? (replicas > 1 ? '60' : '40'))),
          CHAOS_KILLS: String(positive('kills', values.kills ?? (replicas > 1 ? '10' : '12'))),
          CHAOS_REPLICAS: values.replicas,
          CHAOS_SEED: String(seed),
          CHAOS_REPORT: reportFile,
          ...(values['keep-logs'] ? { KEEP_TEST_LOGS: '1' } : {}),
        },
      });
      let report: ChaosReport | undefined;
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as ChaosReport;
      } catch {
        // the run stopped before its report (the stack did not start, or an order never finished)
      }
      const kills = report ? Object.entries(report.kills).map(([name, count]) => `${name} ×${count}`) : [];
      summary.push(`  run ${n}: seed ${seed}, ${result.code === 0 ? 'passed' : 'FAILED'}; kills: ${kills.join(', ')}`);
      if (result.code !== 0) {
        info(summary.join('\n'));
        throw new ScriptError(
          `chaos run ${n} (seed ${seed}) failed: its report is above; CHAOS_SEED=${seed} repeats it`,
        );
      }
    }
    info(`chaos: ${runs} run(s) in a row passed in ${formatDuration(Date.now() - began)}\n${summary.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
