// `npm test`: the whole suite. Bootstrap (so a first run shows its progress), typecheck, lint, unit tests,
// the integration tests on a private real Dapr stack, then stacks of their own: two replicas of every app;
// PostgreSQL, a workflow change and the Dapr CLI side by side; the benchmark and the soak in their shortest
// forms; a short chaos run.
// Ends with one plain "N passed, N failed" line.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap } from './bootstrap.ts';
import { run } from './lib/proc.ts';
import { repoRoot, runDir } from './lib/runtime.ts';
import { formatDuration, info, main, ScriptError, step } from './lib/ui.ts';
import { countReport, type VitestReport } from './lib/vitestReport.ts';

function readReport(path: string): VitestReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
  } catch {
    return undefined; // vitest stopped before running anything
  }
}

/** A check that is not a vitest run (typecheck, lint): true when it passed. */
async function check(title: string, command: string, args: string[]): Promise<boolean> {
  return step(
    title,
    async () => (await run(command, args, { cwd: repoRoot, inherit: true })).code === 0,
    (passed) => passed,
  );
}

main(async () => {
  const began = Date.now();
  await bootstrap({ reuseRunning: false, chromium: true, postgres: true });
  const total = { passed: 0, failed: 0, skipped: 0 };
  // Typecheck and lint count as a test each: a failure there still ends with the line below.
  for (const [title, args] of [
    ['typecheck', ['tsc', '--noEmit']],
    ['lint', ['biome', 'check', '.']],
  ] as const) {
    if (await check(title, 'npx', [...args])) total.passed += 1;
    else total.failed += 1;
  }

  // The stacks that kill processes run after the others, not beside them.
  const runs = [
    { title: 'unit and integration tests', projects: ['unit', 'integration'] },
    { title: 'two replicas of every app, retentions of seconds (a stack of its own)', projects: ['scale'] },
    {
      title:
        "the walkthrough on PostgreSQL, a change of the workflow with an order in flight, npm start's path through the Dapr CLI (side by side, a stack each)",
      projects: ['postgres', 'versions', 'cli'],
    },
    { title: 'the benchmark and the soak, in their shortest forms (a stack of its own each)', projects: ['bench'] },
    {
      title:
        'chaos test, short form, two replicas of orderprocessing and inventory (npm run test:chaos for the full one)',
      projects: ['chaos'],
      env: {
        CHAOS_REPLICAS: 'orderprocessing:2,inventory:2',
        CHAOS_ORDERS: '8',
        CHAOS_KILLS: '7',
        CHAOS_ROLLS: 'orderprocessing,inventory',
      },
    },
  ];
  let ok = total.failed === 0;
  for (const [n, { title, projects, env }] of runs.entries()) {
    const report = join(runDir, `vitest-${n}-${projects.join('-')}.json`);
    rmSync(report, { force: true });
    const args = ['vitest', 'run', ...projects.flatMap((name) => ['--project', name])];
    const vitest = await step(
      title,
      () =>
        run('npx', [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
          cwd: repoRoot,
          inherit: true,
          env: { ...process.env, ...env },
        }),
      (result) => result.code === 0,
    );
    const raw = readReport(report);
    const counts = raw ? countReport(raw) : { passed: 0, failed: 1, skipped: 0 };
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    if (vitest.code !== 0 || counts.failed > 0 || counts.passed === 0) ok = false;
  }

  info(`npm test took ${formatDuration(Date.now() - began)}`);
  info(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  if (!ok) throw new ScriptError('tests failed');
});
