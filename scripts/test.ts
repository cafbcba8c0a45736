// `npm test`: the whole suite. Bootstrap (so a first run shows its progress), typecheck, lint, unit tests,
// then the integration tests on a private real Dapr stack. Ends with one plain "N passed, N failed" line.
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

async function inherit(title: string, command: string, args: string[]): Promise<void> {
  await step(title, async () => {
    const result = await run(command, args, { cwd: repoRoot, inherit: true });
    if (result.code !== 0) throw new Stop(`${title} failed`);
  });
}

main(async () => {
  const began = Date.now();
  await bootstrap({ reuseRunning: false, chromium: true });
  await inherit('typecheck', 'npx', ['tsc', '--noEmit']);
  await inherit('lint', 'npx', ['biome', 'check', '.']);

  const report = join(runDir, 'vitest-report.json');
  rmSync(report, { force: true });
  const vitest = await step('unit and integration tests', () =>
    run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
      cwd: repoRoot,
      inherit: true,
    }),
  );
  let counts: VitestReport | undefined;
  try {
    counts = JSON.parse(readFileSync(report, 'utf8')) as VitestReport;
  } catch {
    // no report: vitest failed before running anything
  }
  info(`npm test took ${formatDuration(Date.now() - began)}`);
  if (counts) {
    const skipped = counts.numPendingTests + counts.numTodoTests;
    info(`${counts.numPassedTests} passed, ${counts.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }
  if (vitest.code !== 0 || !counts || counts.numFailedTests > 0 || counts.numPassedTests === 0) {
    throw new Stop('tests failed');
  }
});
