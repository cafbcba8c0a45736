import { describe, expect, it } from 'vitest';
import { exitedApp } from './cliOutput.ts';

describe("the Dapr CLI's output", () => {
  it('names the app that exited during start-up, with its error', () => {
    const output = [
      'ℹ️  Started Dapr with app id "orderprocessing". HTTP Port: 3500. gRPC Port: 50001',
      '== APP - notifications == {"msg":"Server listening at http://127.0.0.1:3001"}',
      '== APP - orderprocessing == file:///work/services/orderprocessing/dist/server.js:1',
      "== APP - orderprocessing ==     throw new Error('APPROVER_TOKENS: each entry is name:token');",
      '== APP - orderprocessing ==     ^',
      '== APP - orderprocessing == Error: invalid configuration: APPROVER_TOKENS: each entry is name:token',
      '== APP - orderprocessing ==     at loadConfig (/work/services/shared/src/config.ts:40:11)',
      '== APP - orderprocessing == Node.js v20.20.2',
      'The App process exited with error code: exit status 1',
    ].join('\n');
    expect(exitedApp(output)).toEqual({
      appId: 'orderprocessing',
      lines: [
        'Error: invalid configuration: APPROVER_TOKENS: each entry is name:token',
        'at loadConfig (/work/services/shared/src/config.ts:40:11)',
        'Node.js v20.20.2',
      ],
    });
  });

  it('says nothing while every app runs', () => {
    expect(exitedApp('== APP - payments == {"msg":"Server listening"}')).toBeUndefined();
  });
});
