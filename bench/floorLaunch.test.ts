import { describe, expect, it } from 'vitest';
import type { DaprApp } from '../scripts/lib/daprfile.ts';
import { appNodeFlags, nodeFlagsOf } from './floorLaunch.ts';

const app = (appId: string, command: string[]): DaprApp => ({
  appId,
  dir: '/x',
  appPort: 1,
  daprHttpPort: 2,
  daprGrpcPort: 3,
  command,
  configFile: '/x/config.yaml',
});
const APP_COMMAND = [
  'node',
  '--heap-growing-percent=50',
  '--max-semi-space-size=16',
  '--enable-source-maps',
  '--import',
  '../shared/dist/instrument.js',
  'dist/server.js',
];

describe('nodeFlagsOf', () => {
  it('takes the flags before the script, leaving out preloads and their paths', () => {
    expect(nodeFlagsOf(APP_COMMAND)).toEqual([
      '--heap-growing-percent=50',
      '--max-semi-space-size=16',
      '--enable-source-maps',
    ]);
    expect(nodeFlagsOf(['node', '--import=./x.js', '--stack-size=2000', 'a.js', '--not-node-s'])).toEqual([
      '--stack-size=2000',
    ]);
    expect(nodeFlagsOf(['node', 'a.js'])).toEqual([]);
  });
});

describe('appNodeFlags', () => {
  it('is the flags the apps share', () => {
    expect(appNodeFlags([app('a', APP_COMMAND), app('b', APP_COMMAND)])).toContain('--max-semi-space-size=16');
  });

  it('refuses apps that disagree rather than pick one', () => {
    const other = APP_COMMAND.filter((arg) => arg !== '--max-semi-space-size=16');
    expect(() => appNodeFlags([app('a', APP_COMMAND), app('b', other)])).toThrow(/b: --heap-growing-percent=50/);
  });

  it('reads dapr.yaml by default: the flags the stack starts the apps with', () => {
    expect(appNodeFlags()).toContain('--max-semi-space-size=16');
  });
});
