// The runtime and the services' bundles, as for every project that starts a real stack: `npm run
// test:chaos` runs this project alone, and the chaos test starts its stack from dapr.yaml's commands.
import { bootstrap } from '../../scripts/bootstrap.ts';

export default async function setup() {
  await bootstrap({ reuseRunning: false, chromium: false });
}
