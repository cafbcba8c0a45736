// `npm run build`: compiles the services into the bundles dapr.yaml runs (see lib/build.ts). `npm start`
// and `npm test` do this themselves; run it before `dapr run -f .` if you start the apps that way.
import { relative } from 'node:path';
import { buildServices, buildTargets } from './lib/build.ts';
import { repoRoot } from './lib/runtime.ts';
import { info, main, step } from './lib/ui.ts';

main(async () => {
  const targets = buildTargets();
  await step('compiling the services (esbuild)', () => buildServices(targets));
  for (const { output } of targets) info(`  ${relative(repoRoot, output)}`);
});
