import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServices, buildTargets } from './build.ts';
import { repoRoot } from './runtime.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('buildTargets', () => {
  it("maps every bundle dapr.yaml's commands run to its TypeScript source", () => {
    const targets = buildTargets().map(({ source, output }) => [source, output].map((p) => p.slice(repoRoot.length)));
    expect(targets).toContainEqual(['/services/shared/src/instrument.ts', '/services/shared/dist/instrument.js']);
    for (const app of ['orderprocessing', 'notifications', 'inventory', 'payments', 'shipping']) {
      expect(targets).toContainEqual([`/services/${app}/src/server.ts`, `/services/${app}/dist/server.js`]);
    }
    expect(targets).toHaveLength(6); // the shared preload once, not once per app
  });
});

describe('buildServices', () => {
  async function project(files: Record<string, string>): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'build-test-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }

  it('bundles a service with its relative imports into runnable JavaScript with a source map', async () => {
    const dir = await project({
      'svc/src/server.ts': "import { answer } from './answer.ts';\nexport const value: number = answer * 2;\n",
      'svc/src/answer.ts': 'export const answer = 21;\n',
    });
    const output = join(dir, 'svc/dist/server.js');
    await buildServices([{ source: join(dir, 'svc/src/server.ts'), output }]);
    const loaded = (await import(pathToFileURL(output).href)) as { value: number };
    expect(loaded.value).toBe(42);
    expect(readFileSync(output, 'utf8')).toContain('//# sourceMappingURL=server.js.map');
    expect(JSON.parse(readFileSync(`${output}.map`, 'utf8')).sources).toEqual(['../src/answer.ts', '../src/server.ts']);
  });

  it('says which file and line do not compile, and writes nothing', async () => {
    const dir = await project({ 'svc/src/server.ts': 'export const broken = ;\n' });
    const output = join(dir, 'svc/dist/server.js');
    await expect(buildServices([{ source: join(dir, 'svc/src/server.ts'), output }])).rejects.toThrow(
      /the services do not compile:\n {2}.*svc\/src\/server\.ts:1: Unexpected ";"/,
    );
    expect(existsSync(output)).toBe(false);
  });

  it('names a source that dapr.yaml expects and that is missing', async () => {
    const dir = await project({});
    await expect(
      buildServices([{ source: join(dir, 'svc/src/server.ts'), output: join(dir, 'svc/dist/server.js') }]),
    ).rejects.toThrow(/which is missing/);
  });
});
