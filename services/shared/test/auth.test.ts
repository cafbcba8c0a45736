import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { parseApprovers, safeEqual } = await import('#shared/auth.ts');

describe('safeEqual', () => {
  it('compares in constant time (crypto.timingSafeEqual), for any lengths', () => {
    vi.mocked(crypto.timingSafeEqual).mockClear();
    expect(safeEqual('secret-token', 'secret-token')).toBe(true);
    expect(safeEqual('secret-token', 'secret-tokem')).toBe(false);
    expect(safeEqual('short', 'a much longer secret')).toBe(false);
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(3);
  });
});

describe('parseApprovers', () => {
  it('reads name:token pairs', () => {
    expect(parseApprovers('chris:0123456789abcdef01,dana:fedcba9876543210fe')).toEqual([
      { name: 'chris', token: '0123456789abcdef01' },
      { name: 'dana', token: 'fedcba9876543210fe' },
    ]);
    expect(parseApprovers(undefined)).toEqual([]);
  });
  it('refuses short tokens and entries without a name', () => {
    expect(() => parseApprovers('chris:short')).toThrow(/16 characters/);
    expect(() => parseApprovers(':0123456789abcdef01')).toThrow(/name:token/);
  });
});
