import { describe, expect, it } from 'vitest';
import { duration, loadConfig } from '#shared/config.ts';

describe('duration', () => {
  it('reads the units people write', () => {
    expect(duration.parse('5s')).toBe(5000);
    expect(duration.parse('24h')).toBe(86_400_000);
    expect(duration.parse('250ms')).toBe(250);
  });
  it('refuses a bare number', () => {
    expect(duration.safeParse('5').success).toBe(false);
  });
});

describe('loadConfig', () => {
  it('names the variable that is wrong', () => {
    expect(() => loadConfig({}, { APP_PORT: 'eighty' })).toThrow(/APP_PORT/);
  });
});
