// Entry point of `npm start` / `npm test` on a fresh clone: node_modules may not exist yet, so this file
// uses nothing but Node itself. On a Node older than the project supports it first runs itself again on
// the pinned release from the npm registry (scripts/lib/supportedNode.mjs). Then it installs the locked
// dependencies when they are missing or stale, and runs the TypeScript script named on the command line
// through tsx.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSupportedNode, envWithNode } from './lib/supportedNode.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

/** Runs `command` with stdio inherited, passing signals on (the child owns shutdown), and exits as it does. */
function handOver(command, args, env) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
  // A terminal's Ctrl+C reaches the child directly as well; we pass signals on and wait.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

let supportedNode;
try {
  supportedNode = ensureSupportedNode();
} catch (error) {
  process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (supportedNode) {
  // Everything from here on (npm ci, tsx, the services, vitest) runs on the supported node.
  handOver(
    supportedNode,
    [fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    envWithNode(process.env, supportedNode),
  );
} else {
  const childEnv = envWithNode(process.env, process.execPath);
  const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
  if (stale) {
    process.stdout.write('▸ installing node modules (npm ci)…\n');
    // npm on this node, so that it checks the packages' engines against the Node the project runs on.
    const npmCli = process.env.npm_execpath;
    const [command, args] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
    const npm = spawnSync(command, [...args, 'ci', '--no-audit', '--no-fund'], {
      cwd: root,
      stdio: 'inherit',
      env: childEnv,
    });
    if (npm.status !== 0) {
      process.stderr.write('✗ npm ci failed: see the output above.\n');
      process.exit(npm.status ?? 1);
    }
  }
  const [script, ...args] = process.argv.slice(2);
  handOver(process.execPath, ['--import', 'tsx', join(root, script), ...args], childEnv);
}
