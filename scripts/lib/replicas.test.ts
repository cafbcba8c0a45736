import { describe, expect, it } from 'vitest';
import { parseReplicas, replicaName } from './replicas.ts';

const APPS = ['orderprocessing', 'inventory', 'payments'];

describe('REPLICAS', () => {
  it('gives every app one replica when unset', () => {
    expect(parseReplicas(undefined, APPS)).toEqual({ orderprocessing: 1, inventory: 1, payments: 1 });
  });

  it('gives every app the same number, or some apps their own', () => {
    expect(parseReplicas('2', APPS)).toEqual({ orderprocessing: 2, inventory: 2, payments: 2 });
    expect(parseReplicas(' inventory:3, payments:2 ', APPS)).toEqual({ orderprocessing: 1, inventory: 3, payments: 2 });
  });

  it('names what is wrong', () => {
    expect(() => parseReplicas('0', APPS)).toThrow(/every app needs a whole number from 1 to 5, not "0"/);
    expect(() => parseReplicas('shipping:2', APPS)).toThrow(/no app "shipping"/);
    expect(() => parseReplicas('inventory:two', APPS)).toThrow(/inventory needs a whole number/);
  });

  it('names the first replica as the app, the others by number', () => {
    expect([0, 1, 2].map((n) => replicaName('inventory', n))).toEqual(['inventory', 'inventory-2', 'inventory-3']);
  });
});
