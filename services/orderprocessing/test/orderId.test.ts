import { describe, expect, it } from 'vitest';
import { OrderId } from '#shared/messages.ts';
import { customerSlug, newOrderId, orderIdForKey, requestHash } from '../src/orderId.ts';

describe('customerSlug', () => {
  it('keeps only lower-case letters and digits', () => {
    expect(customerSlug("Riley O'Brien")).toBe('rileyobrien');
    expect(customerSlug('Agent 007')).toBe('agent007');
  });

  it('falls back to "customer" when nothing is left', () => {
    expect(customerSlug('李雷')).toBe('customer');
    expect(customerSlug('  --  ')).toBe('customer');
  });

  it('keeps at most 64 characters', () => {
    expect(customerSlug('a'.repeat(100))).toHaveLength(64);
  });
});

describe('newOrderId', () => {
  it('is order_<slug>_<5 random chars>, valid as an OrderId', () => {
    const id = newOrderId('Riley');
    expect(id).toMatch(/^order_riley_[a-z0-9]{5}$/);
    expect(OrderId.safeParse(id).success).toBe(true);
    expect(OrderId.safeParse(newOrderId('李雷')).success).toBe(true);
    expect(OrderId.safeParse(newOrderId('x'.repeat(64))).success).toBe(true);
  });

  it('draws a different suffix each time', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newOrderId('Riley')));
    expect(ids.size).toBeGreaterThan(45);
  });
});

describe('orderIdForKey', () => {
  it('is the same for the same customer and key', () => {
    expect(orderIdForKey('Riley', 'key-1')).toBe(orderIdForKey('Riley', 'key-1'));
  });

  it('differs for another key or another customer', () => {
    expect(orderIdForKey('Riley', 'key-1')).not.toBe(orderIdForKey('Riley', 'key-2'));
    expect(orderIdForKey('Riley', 'key-1')).not.toBe(orderIdForKey('Sam', 'key-1'));
  });

  it('is a valid OrderId', () => {
    const id = orderIdForKey("Riley O'Brien", 'abc');
    expect(id).toMatch(/^order_rileyobrien_[a-z0-9]{5}$/);
    expect(OrderId.safeParse(id).success).toBe(true);
    expect(OrderId.safeParse(orderIdForKey('李雷', 'k')).success).toBe(true);
  });
});

describe('requestHash', () => {
  it('tells equal bodies from different ones', () => {
    const body = { customer: 'Riley', items: ['milk'], total: 5 };
    expect(requestHash(body)).toBe(requestHash({ ...body }));
    expect(requestHash(body)).not.toBe(requestHash({ ...body, total: 6 }));
    expect(requestHash(body)).toMatch(/^[0-9a-f]{32}$/);
  });
});
