import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The integration files that mostly wait, on Zipkin's batches and in Chromium: a project of their own, with
 * a second copy of the integration stack, which `npm test` runs in a vitest of its own beside the others
 * (a vitest runs the files of such projects one at a time, all projects together).
 */
const WAITING_ON_TRACES_AND_PAGES = [
  'test/integration/zipkin-ui.test.ts',
  'test/integration/page.test.ts',
  'test/integration/tracing.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
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
          exclude: [...configDefaults.exclude, ...WAITING_ON_TRACES_AND_PAGES],
          // One real stack for all files (started once, see globalSetup), so the files take turns.
          globalSetup: ['test/integration/globalSetup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The same globalSetup: a stack of its own, alike in every way.
        test: {
          name: 'pages',
          include: WAITING_ON_TRACES_AND_PAGES,
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
