// The session's credentials. Nothing ships with a fixed password: what the environment does not set is
// generated anew for each `npm start` (and each test stack). Every app has tokens of its own, so that a
// token read in one app's process opens neither another app's sidecar nor another app.
import { randomBytes } from 'node:crypto';

const token = () => randomBytes(24).toString('base64url');

/** One app's pair: what it presents to its sidecar, and what its sidecar presents to it. */
export interface AppTokens {
  /** DAPR_API_TOKEN: the app (and only it) → its own sidecar's API. */
  daprApiToken: string;
  /** APP_API_TOKEN: its own sidecar → the app's sidecar-only routes. */
  appApiToken: string;
}

export interface Credentials {
  /** What every app reads alike: APPROVER_TOKENS, ADMIN_TOKEN. */
  env: Record<string, string>;
  /** Each app's own tokens, by app id. */
  apps: Record<string, AppTokens>;
  /** What was generated here (to print once), by variable name. */
  generated: string[];
  approvers: Record<string, string>;
  admin: string;
}

/** The variables that set an app's tokens from the environment, e.g. DAPR_API_TOKEN_PAYMENTS. */
export function tokenVariables(appId: string): { daprApiToken: string; appApiToken: string } {
  const suffix = appId.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return { daprApiToken: `DAPR_API_TOKEN_${suffix}`, appApiToken: `APP_API_TOKEN_${suffix}` };
}

/** What one app and its sidecar read: DAPR_API_TOKEN and APP_API_TOKEN, that app's own. */
export function appTokenEnv(credentials: Pick<Credentials, 'apps'>, appId: string): Record<string, string> {
  const tokens = credentials.apps[appId];
  if (!tokens) throw new Error(`no tokens for app ${appId}`);
  return { DAPR_API_TOKEN: tokens.daprApiToken, APP_API_TOKEN: tokens.appApiToken };
}

export function sessionCredentials(appIds: readonly string[], env: NodeJS.ProcessEnv = process.env): Credentials {
  const generated: string[] = [];
  const pick = (name: string, make: () => string) => {
    const given = env[name]?.trim();
    if (given) return given;
    generated.push(name);
    return make();
  };
  const approverTokens = pick('APPROVER_TOKENS', () => `chris:${token()},dana:${token()}`);
  const admin = pick('ADMIN_TOKEN', token);
  const apps = Object.fromEntries(
    appIds.map((appId) => {
      const names = tokenVariables(appId);
      return [appId, { daprApiToken: pick(names.daprApiToken, token), appApiToken: pick(names.appApiToken, token) }];
    }),
  );
  const all = Object.values(apps).flatMap((each) => [each.daprApiToken, each.appApiToken]);
  if (new Set(all).size !== all.length) throw new Error('two apps were given the same token: each needs its own');
  const approvers = Object.fromEntries(
    approverTokens.split(',').map((pair) => {
      const at = pair.indexOf(':');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
  return { env: { APPROVER_TOKENS: approverTokens, ADMIN_TOKEN: admin }, apps, generated, approvers, admin };
}
