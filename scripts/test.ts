// `npm test`: the whole suite. Bootstrap (so a first run shows its progress), typecheck, lint, unit tests,
// the integration tests on a private real Dapr stack (and beside them, on a second one, those that wait on
// traces and pages), then stacks of their own: two replicas of every app; PostgreSQL, a workflow change
// and the Dapr CLI; the benchmark and the soak in their shortest forms; a short chaos run.
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

interface Part {
  title: string;
  projects: string[];
  env?: Record<string, string>;
  /**
   * Projects run at the same time by a vitest of their own. One vitest runs one file at a time here (it
   * runs a file fewer than the cores at once, and every file of a project that shares a stack in turn).
   */
  beside?: string[];
}

/**
 * One vitest run of the projects, its output on the console, or (quiet) printed whole once it is over.
 * Its counts come from its JSON report; one that wrote none counts as one failed test.
 */
async function vitest(
  name: string,
  projects: string[],
  options: { env?: Record<string, string>; quiet?: boolean } = {},
): Promise<{ ok: boolean; counts: { passed: number; failed: number; skipped: number } }> {
  const report = join(runDir, `vitest-${name}-${projects.join('-')}.json`);
  rmSync(report, { force: true });
  const args = ['vitest', 'run', ...projects.flatMap((project) => ['--project', project])];
  const result = await run('npx', [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    cwd: repoRoot,
    inherit: !options.quiet,
    env: { ...process.env, ...options.env },
  });
  if (options.quiet) process.stdout.write(result.stdout + result.stderr);
  const raw = readReport(report);
  const counts = raw ? countReport(raw) : { passed: 0, failed: 1, skipped: 0 };
  return { ok: result.code === 0 && counts.failed === 0 && counts.passed > 0, counts };
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
  const parts: Part[] = [
    { title: 'unit and integration tests', projects: ['unit', 'integration'], beside: ['pages'] },
    { title: 'two replicas of every app, retentions of seconds (a stack of its own)', projects: ['scale'] },
    {
      title:
        "the walkthrough on PostgreSQL, a change of the workflow with an order in flight, npm start's path through the Dapr CLI (a stack each)",
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
  for (const [n, part] of parts.entries()) {
    const title = part.beside
      ? `${part.title}; beside them, ${part.beside.join(', ')} (a stack of its own)`
      : part.title;
    const outcomes = await step(
      title,
      async () => {
        const beside = part.beside && vitest(`${n}b`, part.beside, { quiet: true });
        const outcomes = [await vitest(`${n}`, part.projects, { env: part.env })];
        if (beside) {
          info(`  … waiting for ${part.beside?.join(', ')}, run beside them (its output follows)`);
          outcomes.push(await beside);
        }
        return outcomes;
      },
      (outcomes) => outcomes.every((outcome) => outcome.ok),
    );
    for (const { ok: passed, counts } of outcomes) {
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
      if (!passed) ok = false;
    }
  }

  info(`npm test took ${formatDuration(Date.now() - began)}`);
  info(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  if (!ok) throw new ScriptError('tests failed');
});
