// Compiles the services for running: every `dist/<name>.js` that a command in dapr.yaml names is bundled
// by esbuild from `src/<name>.ts` beside it (the service's own code and services/shared; packages stay in
// node_modules). Running plain JavaScript instead of TypeScript through tsx saves each app ~30 MB of
// memory (tsx's loader and its compiler); a linked source map (`node --enable-source-maps`) keeps stack
// traces pointing at the TypeScript. Takes well under a second, so every entry point simply runs it.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type BuildFailure, build, stop } from 'esbuild';
import { readDaprRunFile } from './daprfile.ts';
import { repoRoot } from './runtime.ts';
import { ScriptError } from './ui.ts';

export interface BuildTarget {
  /** The TypeScript entry point, e.g. services/inventory/src/server.ts. */
  source: string;
  /** The bundle a command runs, e.g. services/inventory/dist/server.js. */
  output: string;
}

/** The bundles dapr.yaml's commands run, each with the source it is built from (absolute paths). */
export function buildTargets(daprFile = join(repoRoot, 'dapr.yaml')): BuildTarget[] {
  const targets = new Map<string, BuildTarget>();
  for (const app of readDaprRunFile(daprFile).apps) {
    for (const arg of app.command) {
      const parts = arg.split(/[\\/]/);
      if (!arg.endsWith('.js') || parts.at(-2) !== 'dist') continue;
      const output = resolve(app.dir, arg);
      const source = join(dirname(dirname(output)), 'src', `${parts.at(-1)?.slice(0, -'.js'.length)}.ts`);
      targets.set(output, { source, output });
    }
  }
  return [...targets.values()];
}

/** Bundles every target; throws with esbuild's messages when the code does not compile. */
export async function buildServices(targets = buildTargets()): Promise<void> {
  for (const { source } of targets) {
    if (!existsSync(source)) {
      throw new ScriptError(`dapr.yaml runs a bundle of ${relative(repoRoot, source)}, which is missing`);
    }
  }
  try {
    await Promise.all(
      targets.map(({ source, output }) =>
        build({
          entryPoints: [source],
          outfile: output,
          bundle: true,
          packages: 'external',
          platform: 'node',
          format: 'esm',
          target: 'node20',
          sourcemap: 'linked',
          // Paths in the map relative to the bundle, as Node expects; no copy of the sources inside.
          sourcesContent: false,
          logLevel: 'silent',
        }),
      ),
    );
  } catch (error) {
    const { errors } = error as Partial<BuildFailure>;
    if (!errors) throw error;
    const lines = errors.map(({ text, location }) =>
      location ? `${location.file.split(sep).join('/')}:${location.line}: ${text}` : text,
    );
    throw new ScriptError(`the services do not compile:\n  ${lines.join('\n  ')}`);
  } finally {
    // esbuild keeps a compiler process beside ours (~20 MB) for later calls; `npm start` makes none.
    await stop();
  }
}
