import { describe, expect, it } from 'vitest';
import { goRuntimeEnv, versionAtLeast } from './runtime.ts';

describe('goRuntimeEnv', () => {
  it('gives each Go process of the stack one processor, and keeps the rest of the environment', () => {
    expect(goRuntimeEnv({ PATH: '/bin', DAPR_API_TOKEN: 't' })).toEqual({
      PATH: '/bin',
      DAPR_API_TOKEN: 't',
      GOMAXPROCS: '1',
    });
  });

  it("leaves a GOMAXPROCS of the user's own alone", () => {
    expect(goRuntimeEnv({ GOMAXPROCS: '4' }).GOMAXPROCS).toBe('4');
    expect(goRuntimeEnv({ GOMAXPROCS: ' ' }).GOMAXPROCS).toBe('1');
  });
});

describe('versionAtLeast', () => {
  it('compares dotted versions, ignoring a pre-release suffix', () => {
    expect(versionAtLeast('1.18.1', '1.15.0')).toBe(true);
    expect(versionAtLeast('v1.9.0', '1.15.0')).toBe(false);
    expect(versionAtLeast('1.15.0-rc.1', '1.15.0')).toBe(true);
    expect(versionAtLeast('1.18', '1.15.0')).toBe(true);
    expect(versionAtLeast('1.14.9', '1.15.0')).toBe(false);
    expect(versionAtLeast('unknown', '1.15.0')).toBe(false);
  });
});
