// Replay tests (`npm run test:replay`): the histories of real orders of every path, recorded from the real
// stack for every version of the order workflow (`npm run record:histories`), replayed offline through the
// SDK's own orchestration executor against that version's current code. A change that alters what a
// recorded order did fails here, naming the order's path and the step, before it fails an order in flight.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowContext } from '@dapr/dapr';
import { describe, expect, it } from 'vitest';
import { replayHistory, routeSdkConsoleLogs, WorkflowRuntime } from '#shared/daprSdk.ts';
import { traceWorkflow } from '../src/workflow/tracing.ts';
import { WORKFLOW_VERSIONS, type WorkflowVersion, workflowOf } from '../src/workflow/versions.ts';

// The executor logs each history mismatch it is made to find here; the assertions say what matters.
const quiet = () => undefined;
routeSdkConsoleLogs({ error: quiet, warn: quiet, info: quiet, verbose: quiet, debug: quiet });

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'replay', 'fixtures');

interface Fixture {
  path: string;
  version: number;
  name: string;
  orderId: string;
  status: string;
  /** What the order returned (order_result), when it completed. */
  output: unknown;
  events: { type: string; base64: string }[];
}

const fixtures: Fixture[] = readdirSync(FIXTURES).flatMap((dir) =>
  readdirSync(join(FIXTURES, dir)).map(
    (file) => JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8')) as Fixture,
  ),
);

/** What a change does to the workflow's calls: the workflow as it is, or as a test changes it. */
type Change = (ctx: WorkflowContext) => WorkflowContext;
const unchanged: Change = (ctx) => ctx;

/** A runtime with every version registered as orderprocessing registers it, each through `change`. */
function runtimeWith(change: Change) {
  const runtime = new WorkflowRuntime({ daprHost: '127.0.0.1', daprPort: '1' });
  for (const version of WORKFLOW_VERSIONS) {
    const workflow = workflowOf(version);
    runtime.registerWorkflowWithName(
      version.name,
      traceWorkflow('orderWorkflow', (ctx: WorkflowContext, input: Parameters<typeof workflow>[1]) =>
        workflow(change(ctx), input),
      ),
    );
  }
  return runtime;
}

const replay = (fixture: Fixture, change: Change = unchanged) =>
  replayHistory(
    runtimeWith(change),
    fixture.orderId,
    fixture.events.map((event) => Buffer.from(event.base64, 'base64')),
  );

/** The workflow with its calls of one activity changed, as a careless edit would. */
function changingCalls(rewrite: (name: string, ctx: WorkflowContext, input: unknown) => unknown): Change {
  return (ctx) =>
    new Proxy(ctx, {
      get(target, property) {
        if (property === 'callActivity') {
          return (activity: unknown, input: unknown) => rewrite(String(activity), target, input);
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
}

describe('every recorded order replays on its version’s current code', () => {
  it('has fixtures for every version and every path', () => {
    const paths = [
      'auto',
      'approved',
      'rejected',
      'timed_out',
      'cancelled',
      'out_of_stock',
      'shipping_failure',
      'retried_step',
    ];
    for (const version of WORKFLOW_VERSIONS) {
      const recorded = fixtures.filter((fixture) => fixture.version === version.version).map((fixture) => fixture.path);
      const expected = [...paths, ...(version.features.lostShipmentFound ? ['lost_shipment'] : [])];
      expect(recorded.sort(), `version ${version.version}`).toEqual(expected.sort());
      expect(fixtures.find((fixture) => fixture.version === version.version)?.name).toBe(version.name);
    }
  });

  it.each(
    fixtures.map((fixture) => [`v${fixture.version} ${fixture.path}`, fixture] as const),
  )('%s ends as it did', async (_name, fixture) => {
    const outcome = await replay(fixture);
    expect(outcome.failure?.type === 'NonDeterminismError' ? outcome.failure.message : undefined).toBeUndefined();
    expect(outcome.status, `${fixture.path}: ${JSON.stringify(outcome.failure)}`).toBe(fixture.status);
    if (fixture.status === 'COMPLETED') expect(JSON.parse(outcome.result ?? 'null')).toEqual(fixture.output);
  });
});

describe('a change that alters what a recorded order did', () => {
  const latest = WORKFLOW_VERSIONS.at(-1) as WorkflowVersion;
  const recorded = (path: string) => fixtures.find((f) => f.version === latest.version && f.path === path) as Fixture;

  it('fails the replay when an activity is renamed, naming the order path and the step', async () => {
    const renamed = changingCalls((name, ctx, input) =>
      ctx.callActivity(name === 'chargePayment' ? 'chargeCard' : name, input as never),
    );
    const outcome = await replay(recorded('auto'), renamed);
    expect(outcome.status).toBe('FAILED');
    expect(`auto: ${outcome.failure?.message}`).toMatch(
      /^auto: .*chargePayment.*chargeCard|^auto: .*chargeCard.*chargePayment/,
    );
  });

  it('fails the replay when a step is added before the charge', async () => {
    const added = changingCalls((name, ctx, input) => {
      if (name === 'chargePayment') ctx.callActivity('notify', { extra: true } as never);
      return ctx.callActivity(name, input as never);
    });
    const outcome = await replay(recorded('approved'), added);
    expect(outcome.status).toBe('FAILED');
    expect(outcome.failure?.type).toMatch(/NonDeterminism/);
  });
});
