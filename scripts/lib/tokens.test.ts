import { describe, expect, it } from 'vitest';
import { appTokenEnv, sessionCredentials } from './tokens.ts';

const APPS = ['orderprocessing', 'notifications', 'payments'];

describe('sessionCredentials', () => {
  it('gives every app a Dapr API token and an app token of its own', () => {
    const credentials = sessionCredentials(APPS, {});
    const all = APPS.flatMap((appId) => Object.values(appTokenEnv(credentials, appId)));
    expect(new Set(all).size).toBe(6);
    expect(credentials.generated).toContain('DAPR_API_TOKEN_PAYMENTS');
    expect(credentials.env).toEqual({ APPROVER_TOKENS: expect.any(String), ADMIN_TOKEN: expect.any(String) });
  });

  it("takes an app's tokens from its own variables, and generates the rest", () => {
    const credentials = sessionCredentials(APPS, { DAPR_API_TOKEN_PAYMENTS: 'payments-own-dapr-token-0123' });
    expect(credentials.apps.payments?.daprApiToken).toBe('payments-own-dapr-token-0123');
    expect(credentials.generated).not.toContain('DAPR_API_TOKEN_PAYMENTS');
    expect(credentials.generated).toContain('APP_API_TOKEN_PAYMENTS');
  });

  it('refuses one token given to two apps', () => {
    const same = 'the-same-token-for-two-apps-0123';
    expect(() =>
      sessionCredentials(APPS, { DAPR_API_TOKEN_PAYMENTS: same, DAPR_API_TOKEN_NOTIFICATIONS: same }),
    ).toThrow(/same token/);
  });
});
