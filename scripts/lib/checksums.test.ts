import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGoModule, etcdCronSums, goSumLines, sha256Matches, zipkinJarSha256 } from './checksums.ts';

describe('checkGoModule', () => {
  // What `go mod download -json github.com/diagridio/go-etcd-cron@v0.12.6` reported.
  const downloaded = {
    Path: 'github.com/diagridio/go-etcd-cron',
    Version: 'v0.12.6',
    Sum: 'h1:8ruus+RCVLvmY0k/TQTLTW2voeSeQoxgpm89XhxXWzU=',
    GoModSum: 'h1:Hj7WYwxoYBjV2sOc7ycOy/fZhFVHBetYSZ78C5PcoZc=',
  };

  it('accepts the module the scheduler was first built with', () => {
    expect(() => checkGoModule(downloaded, etcdCronSums)).not.toThrow();
  });

  it('refuses other content, another go.mod, or another module under the pinned name', () => {
    const otherSum = 'h1:3XQiCKgOqSJz2SjAKbXTqSSUpuqwuIRt3126AbGgE7E=';
    expect(() => checkGoModule({ ...downloaded, Sum: otherSum }, etcdCronSums)).toThrow(/content hash h1:3XQi.*pinned/);
    expect(() => checkGoModule({ ...downloaded, GoModSum: otherSum }, etcdCronSums)).toThrow(/go\.mod hash/);
    expect(() => checkGoModule({ ...downloaded, Sum: undefined }, etcdCronSums)).toThrow(/\(none\)/);
    expect(() => checkGoModule({ ...downloaded, Version: 'v0.12.7' }, etcdCronSums)).toThrow(/not github/);
  });

  it("writes the module's go.sum lines as go does", () => {
    expect(goSumLines(etcdCronSums)).toBe(
      'github.com/diagridio/go-etcd-cron v0.12.6 h1:8ruus+RCVLvmY0k/TQTLTW2voeSeQoxgpm89XhxXWzU=\n' +
        'github.com/diagridio/go-etcd-cron v0.12.6/go.mod h1:Hj7WYwxoYBjV2sOc7ycOy/fZhFVHBetYSZ78C5PcoZc=\n',
    );
  });
});

describe('sha256Matches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'checksums-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'file');
  writeFileSync(file, 'abc');
  const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

  it("tells a file whose SHA-256 is the pinned one from one that is not, and gives the file's", async () => {
    await expect(sha256Matches(file, abc)).resolves.toEqual({ matches: true, actual: abc });
    await expect(sha256Matches(file, abc.toUpperCase())).resolves.toMatchObject({ matches: true });
    await expect(sha256Matches(file, zipkinJarSha256)).resolves.toEqual({ matches: false, actual: abc });
  });

  it('pins a whole SHA-256 for the Zipkin jar', () => {
    expect(zipkinJarSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
