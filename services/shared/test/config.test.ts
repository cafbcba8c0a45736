import { describe, expect, it } from 'vitest';
import { duration, loadConfig } from '#shared/config.ts';

describe('duration', () => {
  it('reads the units people write', () => {
    expect(duration.parse('5s')).toBe(5000);
    expect(duration.parse('24h')).toBe(86_400_000);
    expect(duration.parse('250ms')).toBe(250);
  });
  it('refuses a bare number, and the looser forms the ms package would read', () => {
    for (const text of ['5', '5 s', '2 hours', '1w', '.5s', '-5s']) {
      expect(duration.safeParse(text).success, text).toBe(false);
    }
  });
});

describe('loadConfig', () => {
  it('names the variable that is wrong', () => {
    expect(() => loadConfig({}, { APP_PORT: 'eighty' })).toThrow(/APP_PORT/);
  });
});
