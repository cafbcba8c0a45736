// The gateway to the engine: how it tells "the engine is away for a moment" from a real error when it
// raises a decision's event or reads an order.
import { describe, expect, it } from 'vitest';
import type { WorkflowClient } from '#shared/daprSdk.ts';
import { DaprWorkflowGateway, EngineUnavailable } from '../src/engine.ts';
import { LATEST_VERSION, versionNumbered } from '../src/workflow/versions.ts';

/** A client whose raiseEvent fails with `errors` in turn, then succeeds; it counts the calls. */
function clientFailing(...errors: Error[]) {
  const calls: number[] = [];
  const call = async () => {
    calls.push(performance.now());
    const error = errors.shift();
    if (error) throw error;
  };
  const client = { raiseEvent: call, getWorkflowState: call } as unknown as WorkflowClient;
  return { client, calls };
}

/** What daprd answers when it reads the workflow between two of its saves. */
const betweenSaves = () =>
  Object.assign(new Error('2 UNKNOWN: inbox key missing from state store (transient store read failure)'), {
    code: 2,
  });

const gateway = (client: WorkflowClient) => new DaprWorkflowGateway(client, versionNumbered(LATEST_VERSION));
const decision = { approver: 'chris', approved: true };

describe('raising a decision', () => {
  it('tries again, up to 4 times, while the engine is between two saves of the workflow', async () => {
    const { client, calls } = clientFailing(betweenSaves(), betweenSaves(), betweenSaves(), betweenSaves());
    await gateway(client).raiseApproval('order_riley_aaaaa', decision);
    expect(calls).toHaveLength(5);
    // Waits of 50, 100, 200 and 400 ms between them.
    expect((calls[4] ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(740);
  });

  it('answers 503 (EngineUnavailable) when the engine is still away after the fifth try', async () => {
    const { client, calls } = clientFailing(...Array.from({ length: 5 }, betweenSaves));
    await expect(gateway(client).raiseCancel('order_riley_aaaaa', { by: 'dana' })).rejects.toBeInstanceOf(
      EngineUnavailable,
    );
    expect(calls).toHaveLength(5);
  });

  it('does not try again an error that is not the engine being away', async () => {
    const { client, calls } = clientFailing(new Error('3 INVALID_ARGUMENT: no such instance'));
    await expect(gateway(client).raiseApproval('order_riley_aaaaa', decision)).rejects.toThrow(/INVALID_ARGUMENT/);
    expect(calls).toHaveLength(1);
  });
});

describe('reading an order', () => {
  it('tries again while the engine is between two saves, then finds what there is', async () => {
    const { client, calls } = clientFailing(betweenSaves(), betweenSaves());
    expect(await gateway(client).find('order_riley_aaaaa')).toBeUndefined(); // the fake knows no order
    expect(calls).toHaveLength(3);
  });
});
