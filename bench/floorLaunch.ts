// How the floor's worker (bench/floor.ts) is started like the apps, so that the difference to an order is
// the order's own work and not how its processes run: the Node flags of dapr.yaml's commands (the one
// place they are written, for `npm start` and the test stacks alike), a bundle built as the apps' are
// (no tsx loader in the process), and an app port for its sidecar, as theirs have.

import { join } from 'node:path';
import { buildServices } from '../scripts/lib/build.ts';
import { type DaprApp, readDaprRunFile } from '../scripts/lib/daprfile.ts';
import { repoRoot } from '../scripts/lib/runtime.ts';

/** Flags of node's that take their value as the next argument: preloads, which are each app's own. */
const PRELOADS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** The flags one app's command gives node, before its script, without its preloads (paths of its own). */
export function nodeFlagsOf(command: string[]): string[] {
  const flags: string[] = [];
  for (let index = 1; index < command.length; index++) {
    const arg = command[index] ?? '';
    if (PRELOADS.has(arg)) index++;
    else if (PRELOADS.has(arg.split('=')[0] ?? '')) continue;
    else if (arg.startsWith('-')) flags.push(arg);
    else break;
  }
  return flags;
}

/** The Node flags every app runs with (dapr.yaml); an error when the apps do not agree on them. */
export function appNodeFlags(apps: DaprApp[] = readDaprRunFile().apps): string[] {
  const each = apps.map((app) => ({ appId: app.appId, flags: nodeFlagsOf(app.command) }));
  const first = each[0]?.flags ?? [];
  const differs = each.find(({ flags }) => flags.join(' ') !== first.join(' '));
  if (differs) {
    throw new Error(
      `dapr.yaml's apps run node with different flags (${differs.appId}: ${differs.flags.join(' ')}; ${each[0]?.appId}: ${first.join(' ')}): which ones should the floor's worker get?`,
    );
  }
  return first;
}

/** The floor worker's bundle, built beside the bench's sources so that its packages resolve as the apps' do. */
export const FLOOR_BUNDLE = join(repoRoot, 'bench', 'dist', 'floor.js');

/** Builds the floor worker's bundle and returns the command line that runs it (after node itself). */
export async function floorWorkerArgs(): Promise<string[]> {
  await buildServices([{ source: join(repoRoot, 'bench', 'floor.ts'), output: FLOOR_BUNDLE }]);
  return [...appNodeFlags(), FLOOR_BUNDLE];
}
