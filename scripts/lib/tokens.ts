// The session's credentials. Nothing ships with a fixed password: what the environment does not set is
// generated anew for each `npm start` (and each test stack).
import { randomBytes } from 'node:crypto';

const token = () => randomBytes(24).toString('base64url');

export interface Credentials {
  /** For the services: APPROVER_TOKENS, ADMIN_TOKEN, DAPR_API_TOKEN, APP_API_TOKEN. */
  env: Record<string, string>;
  /** What was generated here (to print once), by variable name. */
  generated: string[];
  approvers: Record<string, string>;
  admin: string;
  appApiToken: string;
}

export function sessionCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const generated: string[] = [];
  const pick = (name: string, make: () => string) => {
    const given = env[name]?.trim();
    if (given) return given;
    generated.push(name);
    return make();
  };
  const approverTokens = pick('APPROVER_TOKENS', () => `chris:${token()},dana:${token()}`);
  const admin = pick('ADMIN_TOKEN', token);
  const daprApiToken = pick('DAPR_API_TOKEN', token);
  const appApiToken = pick('APP_API_TOKEN', token);
  const approvers = Object.fromEntries(
    approverTokens.split(',').map((pair) => {
      const at = pair.indexOf(':');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
  return {
    env: {
      APPROVER_TOKENS: approverTokens,
      ADMIN_TOKEN: admin,
      DAPR_API_TOKEN: daprApiToken,
      APP_API_TOKEN: appApiToken,
    },
    generated,
    approvers,
    admin,
    appApiToken,
  };
}
