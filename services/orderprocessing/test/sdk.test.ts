import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the SDK modules orderprocessing loads', () => {
  it("are the workflow's own, never @dapr/dapr's index (which loads every client and server)", () => {
    // A fresh process, since this test's own imports (types aside) must not decide the outcome.
    const script = `
      import { createRequire } from 'node:module';
      await import('./services/orderprocessing/src/app.ts');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        index: loaded.some((file) => file.endsWith('/@dapr/dapr/index.js')),
        workflow: loaded.some((file) => file.endsWith('/@dapr/dapr/workflow/runtime/WorkflowRuntime.js')),
      }));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
      encoding: 'utf8',
    });
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? '{}')).toEqual({ index: false, workflow: true });
  });
});
