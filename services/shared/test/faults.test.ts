// FAULTS, the tests' fault injection: read strictly, off when unset, and aimed at the orders it names only.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config.ts';
import { FaultRules } from '#shared/faults.ts';
import { createServiceApp } from '#shared/http.ts';
import { ChargeRequest } from '#shared/messages.ts';

describe('FaultRules', () => {
  it('reads route, status and order id prefix', () => {
    expect(FaultRules.parse('charge:422@order_declined_, release:503@order_stuck_')).toEqual([
      { route: 'charge', kind: 'invalid', orderIdPrefix: 'order_declined_' },
      { route: 'release', kind: 'unavailable', orderIdPrefix: 'order_stuck_' },
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
    ]) {
      expect(FaultRules.safeParse(text).success, text).toBe(false);
    }
    expect(() => loadConfig({}, { APP_PORT: '3000', FAULTS: 'charge:999@order_x_' })).toThrow(/FAULTS/);
  });
});

describe('a service with FAULTS', () => {
  function app(faults: string) {
    const service = createServiceApp({ name: 'test', logLevel: 'silent', faults: FaultRules.parse(faults) });
    service.post('/charge', { schema: { body: ChargeRequest } }, async () => ({ charged: true }));
    return service;
  }
  const charge = (orderId: string) => ({
    method: 'POST' as const,
    url: '/charge',
    payload: { orderId, customer: 'Riley', amount: 5 },
  });

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
