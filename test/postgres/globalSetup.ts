// A throwaway PostgreSQL cluster and a stack whose state store is on it (pub/sub stays on Redis), with two
// replicas of inventory and payments, for postgres.test.ts. Its own vitest project, since the integration project's stack is Redis-backed.
import type { TestProject } from 'vitest/node';
import { bootstrap, ensurePostgres } from '../../scripts/bootstrap.ts';
import { PostgresCluster, type PostgresTarget } from '../../scripts/lib/postgres.ts';
import { TestStack } from '../../scripts/lib/stack.ts';
import { startStackFor, TEST_ENV } from '../integration/globalSetup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresTarget;
    redisPort: number;
  }
}

export default async function setup(project: TestProject) {
  await bootstrap({ reuseRunning: false, chromium: false });
  const keepLogs = process.env.KEEP_TEST_LOGS === '1';
  const cluster = new PostgresCluster(await ensurePostgres(), keepLogs);
  let stack: TestStack | undefined;
  const stop = async () => {
    await stack?.stop();
    await cluster.stop();
  };
  try {
    await cluster.start();
    // Two replicas of the services whose writes must stay exact on PostgreSQL too (postgres.test.ts).
    stack = new TestStack({
      env: TEST_ENV,
      keepLogs,
      postgresStateStore: cluster.connectionString,
      replicas: { inventory: 2, payments: 2 },
    });
    await startStackFor(project, stack);
  } catch (error) {
    process.stderr.write(`PostgreSQL's log: ${cluster.logFile}${keepLogs ? '' : ' (KEEP_TEST_LOGS=1 keeps it)'}\n`);
    await stop();
    throw error;
  }
  project.provide('postgres', cluster.target);
  project.provide('redisPort', stack.redisPort);
  return stop;
}
