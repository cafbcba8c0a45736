// Where and on what a benchmark ran (the machine, the versions, the code), and where its results go: JSON and
// Markdown in bench/results/ (or a directory of the caller's), `latest.md` and the README's section for a
// standard run only. Shared by the standard run (report.ts) and the tracing comparison (traceReport.ts).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { run } from '../scripts/lib/proc.ts';
import { daprBin, repoRoot } from '../scripts/lib/runtime.ts';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

/** What every result file opens with: when and where it ran, on what, with which settings. */
export interface RunRecord<S> {
  startedAt: string;
  finishedAt: string;
  /** False when the run was stopped before its end (Ctrl+C): the figures are partial. */
  complete: boolean;
  machine: Machine;
  versions: Record<string, string>;
  settings: S;
}

/** The record of a run that is over now (or was stopped). */
export function finishedRun<S>(
  started: Omit<RunRecord<S>, 'finishedAt' | 'complete'>,
  stopped: AbortSignal,
): RunRecord<S> {
  return { ...started, finishedAt: new Date().toISOString(), complete: !stopped.aborted };
}

export const RESULTS_DIR = join(repoRoot, 'bench', 'results');
const README = join(repoRoot, 'README.md');
export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    loadAverageBefore: loadAverage(),
    loadAverageAfter: [],
  };
}

export const loadAverage = () => os.loadavg().map((value) => Math.round(value * 100) / 100);

function packageVersion(name: string): string {
  try {
    const file = join(repoRoot, 'node_modules', ...name.split('/'), 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function versions(): Promise<Record<string, string>> {
  const daprd = await run(daprBin('daprd'), ['--version']);
  const redis = await run('redis-server', ['--version']);
  // The code measured: the commit, and whether files the stack runs differed from it (a shared checkout).
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot });
  const dirty = await run(
    'git',
    ['status', '--porcelain', '--', 'services', 'components', 'dapr.yaml', 'package-lock.json'],
    {
      cwd: repoRoot,
    },
  );
  const changed = dirty.stdout.split('\n').filter(Boolean).length;
  return {
    code: `${head.stdout.trim() || 'unknown'}${changed > 0 ? ` + ${changed} uncommitted file(s) under services/ or components/` : ''}`,
    node: process.version,
    daprd: daprd.stdout.trim() || 'unknown',
    '@dapr/dapr': packageVersion('@dapr/dapr'),
    '@dapr/durabletask-js': packageVersion('@dapr/durabletask-js'),
    fastify: packageVersion('fastify'),
    redis: /v=(\S+)/.exec(redis.stdout)?.[1] ?? 'unknown',
  };
}

/** One line on the machine and versions, for the top of a report. */
export function runLine(startedAt: string, m: Machine, v: Record<string, string>): string {
  const when = startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `Last run ${when}, on ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; code ${v.code}; Node ${v.node}, daprd ${v.daprd}, @dapr/dapr ${v['@dapr/dapr']}, Redis ${v.redis}. Load average before ${m.loadAverageBefore.join(' / ')}, after ${m.loadAverageAfter.join(' / ')}.`;
}

/**
 * Writes `<stamp><suffix>.json` and `.md` into `dir`, and `latest.md` too when `latest`; returns the paths.
 * The stamp is the run's start, e.g. 2026-12-06T03-15-15Z.
 */
export function writeResultFiles(
  files: { startedAt: string; suffix: string; json: unknown; markdown: string; latest: boolean },
  dir = RESULTS_DIR,
): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = `${files.startedAt.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}${files.suffix}`;
  const json = join(dir, `${stamp}.json`);
  const md = join(dir, `${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(files.json, null, 2)}\n`);
  writeFileSync(md, files.markdown);
  if (!files.latest) return [json, md];
  const latest = join(dir, 'latest.md');
  writeFileSync(latest, files.markdown);
  return [json, md, latest];
}

/** Rewrites the README between the bench markers with `body`; false when they are missing. */
export function replaceReadmeSection(body: string): boolean {
  if (!existsSync(README)) return false;
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  writeFileSync(README, `${text.slice(0, start + README_START.length)}\n${body}\n${text.slice(end)}`);
  return true;
}
