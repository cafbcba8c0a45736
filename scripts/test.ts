// `npm test`: the whole suite. Bootstrap (so a first run shows its progress), typecheck, lint, unit tests,
// the integration tests on a private real Dapr stack, the walkthrough again on a stack whose state store
// is PostgreSQL, the benchmark in its shortest form, then a short chaos run, each on a stack of its own.
// Ends with one plain "N passed, N failed" line.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap } from './bootstrap.ts';
import { run } from './lib/proc.ts';
import { repoRoot, runDir } from './lib/runtime.ts';
import { formatDuration, info, main, Stop, step } from './lib/ui.ts';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

function readReport(path: string): VitestReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
  } catch {
    return undefined; // vitest stopped before running anything
  }
}

async function inherit(title: string, command: string, args: string[]): Promise<void> {
  await step(title, async () => {
    const result = await run(command, args, { cwd: repoRoot, inherit: true });
    if (result.code !== 0) throw new Stop(`${title} failed`);
  });
}

main(async () => {
  const began = Date.now();
  await bootstrap({ reuseRunning: false, chromium: true, postgres: true });
  await inherit('typecheck', 'npx', ['tsc', '--noEmit']);
  await inherit('lint', 'npx', ['biome', 'check', '.']);

  // The chaos test kills processes of a stack of its own: it runs after the others, not beside them.
  const runs = [
    { title: 'unit and integration tests', projects: ['unit', 'integration'] },
    { title: 'the walkthrough on PostgreSQL (a stack of its own)', projects: ['postgres'] },
    { title: 'the benchmark, in its shortest form (a stack of its own)', projects: ['bench'] },
    { title: 'chaos test (short form; npm run test:chaos for the full one)', projects: ['chaos'] },
  ];
  const total = { passed: 0, failed: 0, skipped: 0 };
  let ok = true;
  for (const { title, projects } of runs) {
    const report = join(runDir, `vitest-${projects.join('-')}.json`);
    rmSync(report, { force: true });
    const args = ['vitest', 'run', ...projects.flatMap((name) => ['--project', name])];
    const vitest = await step(title, () =>
      run('npx', [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
        cwd: repoRoot,
        inherit: true,
      }),
    );
    const counts = readReport(report);
    total.passed += counts?.numPassedTests ?? 0;
    total.failed += counts?.numFailedTests ?? 0;
    total.skipped += (counts?.numPendingTests ?? 0) + (counts?.numTodoTests ?? 0);
    if (vitest.code !== 0 || !counts || counts.numFailedTests > 0 || counts.numPassedTests === 0) ok = false;
  }

  info(`npm test took ${formatDuration(Date.now() - began)}`);
  info(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  if (!ok) throw new Stop('tests failed');
});
