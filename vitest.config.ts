import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Every core, not vitest's default of one fewer: nothing runs beside them (the other projects' files
          // wait for their own turn), and on two cores they take 16 s instead of 32. A group of their own,
          // since projects in one group must agree on their workers.
          maxWorkers: availableParallelism(),
          sequence: { groupOrder: 1 },
          include: [
            'services/**/*.test.ts',
            'scripts/**/*.test.ts',
            'deploy/**/*.test.ts',
            'bench/**/*.test.ts',
            'test/chaos/plan.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One real stack for all files (started once, see globalSetup), so the files take turns.
          globalSetup: ['test/integration/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Its own stack, whose state store is PostgreSQL: see test/postgres/globalSetup.ts.
        test: {
          name: 'postgres',
          include: ['test/postgres/**/*.test.ts'],
          globalSetup: ['test/postgres/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Two replicas of every app and retentions of seconds, on a stack of its own (test/scale).
        test: {
          name: 'scale',
          include: ['test/scale/**/*.test.ts'],
          globalSetup: ['test/scale/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
      {
        // A change of the workflow with an order in flight, on a stack of its own.
        test: {
          name: 'versions',
          include: ['test/versions/**/*.test.ts'],
          globalSetup: ['test/chaos/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // npm start's path through the real Dapr CLI, on a stack of its own.
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          globalSetup: ['test/chaos/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // `npm run bench` in its shortest form: it starts a stack of its own.
        test: {
          name: 'bench',
          include: ['test/bench/**/*.test.ts'],
          // Each starts a stack of its own: one at a time.
          fileParallelism: false,
          testTimeout: 300_000,
        },
      },
      {
        // Its own stack, since it kills processes: see test/chaos/chaos.test.ts.
        test: {
          name: 'chaos',
          include: ['test/chaos/chaos.test.ts'],
          globalSetup: ['test/chaos/globalSetup.ts'],
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
