// The session's tokens for demo.http: in .env (which httpyac reads) and in http-client.private.env.json
// under the environment "local" (which JetBrains' HTTP client reads). Both files are git-ignored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from './tokens.ts';

type DemoCredentials = Pick<Credentials, 'approvers' | 'admin' | 'apps'>;

/** demo.http reads payments' ledger and inventory's stock on their own ports, as their own sidecar would. */
const READ_DIRECTLY = ['inventory', 'payments'];

export function demoVariables(credentials: DemoCredentials): Record<string, string> {
  return {
    ...Object.fromEntries(
      Object.entries(credentials.approvers).map(([name, token]) => [`${name.toUpperCase()}_TOKEN`, token]),
    ),
    ADMIN_TOKEN: credentials.admin,
    ...Object.fromEntries(
      READ_DIRECTLY.map((appId) => [
        `${appId.toUpperCase()}_APP_API_TOKEN`,
        credentials.apps[appId]?.appApiToken ?? '',
      ]),
    ),
  };
}

export function writeDemoEnv(credentials: DemoCredentials, dir: string): void {
  const variables = demoVariables(credentials);
  const lines = Object.entries(variables).map(([name, value]) => `${name}=${value}`);
  writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'http-client.private.env.json'), `${JSON.stringify({ local: variables }, null, 2)}\n`, {
    mode: 0o600,
  });
}
