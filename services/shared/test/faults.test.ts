// FAULTS, the tests' fault injection: read strictly, off when unset, and aimed at the orders it names only.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { FaultRules } from '#shared/faults.ts';
import { createServiceApp } from '#shared/http.ts';
import { ChargeRequest } from '#shared/messages.ts';

describe('FaultRules', () => {
  it('reads route, status and order id prefix', () => {
    expect(
      FaultRules.parse(
        'charge:422@order_declined_, release:503@order_stuck_,ship:503+done@order_lost_,charge:503+late=8s@order_late_,reserve:delay=1s@order_early_',
      ),
    ).toEqual([
      { route: 'charge', kind: 'invalid', orderIdPrefix: 'order_declined_', effect: 'none' },
      { route: 'release', kind: 'unavailable', orderIdPrefix: 'order_stuck_', effect: 'none' },
      { route: 'ship', kind: 'unavailable', orderIdPrefix: 'order_lost_', effect: 'done' },
      { route: 'charge', kind: 'unavailable', orderIdPrefix: 'order_late_', effect: { lateMs: 8000 } },
      { route: 'reserve', orderIdPrefix: 'order_early_', delayMs: 1000 },
    ]);
  });

  it('is off when unset or empty', () => {
    expect(FaultRules.parse(undefined)).toEqual([]);
    expect(FaultRules.parse('')).toEqual([]);
  });

  it('refuses a rule it cannot read, so that a test never runs without the fault it meant', () => {
    for (const text of [
      'charge:422',
      'charge:418@order_x_',
      'charge@order_x_',
      '/charge:422@order_x_',
      'charge:422@x',
      'charge:503+later@order_x_',
      'charge:503+late=soon@order_x_',
      'charge:503+late=8@order_x_',
      'charge:delay=soon@order_x_',
      'charge:503+delay=1s@order_x_',
    ]) {
      expect(FaultRules.safeParse(text).success, text).toBe(false);
    }
    expect(() => loadConfig({}, { APP_PORT: '3000', FAULTS: 'charge:999@order_x_' })).toThrow(/FAULTS/);
  });
});

/** A service whose charges are counted per order, as the effect a fault may still let through. */
const charged: string[] = [];
function app(faults: string) {
  const service = createServiceApp({ name: 'test', logLevel: 'silent', faults: FaultRules.parse(faults) });
  service.post('/charge', { schema: { body: ChargeRequest } }, async (request) => {
    charged.push(request.body.orderId);
    return { charged: true };
  });
  return service;
}
const charge = (orderId: string) => ({
  method: 'POST' as const,
  url: '/charge',
  payload: { orderId, customer: 'Riley', amount: 5 },
});

describe('a service with FAULTS', () => {
  it("answers the rule's status for the orders it names, naming the fault", async () => {
    const answer = await app('charge:422@order_declined_').inject(charge('order_declined_abcde'));
    expect(answer.statusCode).toBe(422);
    expect(answer.json().message).toBe('charge refused for order_declined_abcde (a fault injected by FAULTS)');
  });

  it('serves every other order and route as usual', async () => {
    const service = app('charge:422@order_declined_,refund:503@order_riley_');
    expect((await service.inject(charge('order_riley_abcde'))).statusCode).toBe(200);
    expect((await service.inject(charge('order_declinedx_abcde'))).statusCode).toBe(200);
  });
});

describe('a fault that still takes effect', () => {
  it('+done: the call is served, and its answer replaced by the error', async () => {
    charged.length = 0;
    const answer = await app('charge:503+done@order_lost_').inject(charge('order_lost_abcde'));
    expect(answer.statusCode).toBe(503);
    expect(charged).toEqual(['order_lost_abcde']);
  });

  it('+late: the error at once, and the call served that much later, once', async () => {
    charged.length = 0;
    const service = app('charge:503+late=300ms@order_late_');
    const answer = await service.inject(charge('order_late_abcde'));
    expect(answer.statusCode).toBe(503);
    expect(charged).toEqual([]);
    await sleep(600);
    expect(charged).toEqual(['order_late_abcde']);
    await service.close();
  });

  it('+late: a call still waiting when the app closes is not served', async () => {
    charged.length = 0;
    const service = app('charge:503+late=300ms@order_late_');
    expect((await service.inject(charge('order_late_abcde'))).statusCode).toBe(503);
    await service.close();
    await sleep(500);
    expect(charged).toEqual([]);
  });
});

describe('a fault that holds a call up', () => {
  it('delay: the call is served as usual, that much later', async () => {
    charged.length = 0;
    const started = performance.now();
    const answer = await app('charge:delay=300ms@order_early_').inject(charge('order_early_abcde'));
    expect(answer.statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(charged).toEqual(['order_early_abcde']);
  });
});
