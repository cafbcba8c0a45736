// The digests of what the bootstrap downloads outside a package manager's lock, pinned in the code: a file
// or a module that changes under the same name and version is refused, not run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ScriptError } from './ui.ts';

/**
 * SHA-256 of io.zipkin:zipkin-server:3.5.1:jar:exec, computed from the jar first fetched from Maven Central
 * (whose published SHA-1, 38091e0934648a5dc884ad17c62cf2f6502f4ff2, it matched on 2026-12-06).
 */
export const zipkinJarSha256 = '7ac633a6832647e71e50012a5e3e91fbc7054414955261724526030faf271d8d';

/** A Go module's two go.sum hashes: of its content (h1) and of its go.mod. */
export interface GoModuleSums {
  path: string;
  version: string;
  /** `h1:` hash of the module's files, go.sum's `<path> <version> h1:…` line. */
  sum: string;
  /** `h1:` hash of its go.mod, go.sum's `<path> <version>/go.mod h1:…` line. */
  goModSum: string;
}

/**
 * The module the scheduler is built with in place of the go-etcd-cron v0.12.5 that dapr 1.18.1 asks for
 * (not served by the proxy). Its go.sum lines, as the Go checksum database gives them (checked 2026-12-06).
 */
export const etcdCronSums: GoModuleSums = {
  path: 'github.com/diagridio/go-etcd-cron',
  version: 'v0.12.6',
  sum: 'h1:8ruus+RCVLvmY0k/TQTLTW2voeSeQoxgpm89XhxXWzU=',
  goModSum: 'h1:Hj7WYwxoYBjV2sOc7ycOy/fZhFVHBetYSZ78C5PcoZc=',
};

/** The lines go.sum holds for a module. */
export function goSumLines(module: GoModuleSums): string {
  return `${module.path} ${module.version} ${module.sum}\n${module.path} ${module.version}/go.mod ${module.goModSum}\n`;
}

/** What `go mod download -json <module>@<version>` reports (the fields we check). */
export interface GoModuleDownload {
  Path?: string;
  Version?: string;
  Sum?: string;
  GoModSum?: string;
}

/** Throws a ScriptError unless the downloaded module is the pinned one, both hashes alike. */
export function checkGoModule(download: GoModuleDownload, pinned: GoModuleSums): void {
  const name = `${pinned.path}@${pinned.version}`;
  if (download.Path !== pinned.path || download.Version !== pinned.version) {
    throw new ScriptError(`go mod download gave ${download.Path}@${download.Version}, not ${name}`);
  }
  for (const [what, actual, expected] of [
    ['content', download.Sum, pinned.sum],
    ['go.mod', download.GoModSum, pinned.goModSum],
  ] as const) {
    if (actual !== expected) {
      throw new ScriptError(
        `the Go module ${name} has ${what} hash ${actual ?? '(none)'}, not the pinned ${expected}: refusing to build the scheduler with it (clear it with \`go clean -modcache\` if the module cache is damaged; if the module was republished, check it and update etcdCronSums in scripts/lib/checksums.ts)`,
      );
    }
  }
}

/** A file's digest, hex. */
export async function fileDigest(path: string, algorithm: 'sha1' | 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Whether the file's SHA-256 is `expected`; the digest it has either way. */
export async function sha256Matches(path: string, expected: string): Promise<{ matches: boolean; actual: string }> {
  const actual = await fileDigest(path, 'sha256');
  return { matches: actual === expected.toLowerCase(), actual };
}
