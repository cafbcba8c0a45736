// REPLICAS: how many replicas of each app to run, each its own app process and its own daprd under the
// same app id (the local form of a Deployment's pods). "2" gives every app two; "inventory:3,payments:2"
// sets some apps and leaves the others at one.
import { ScriptError } from './ui.ts';

export const MAX_REPLICAS = 5;

export function parseReplicas(text: string | undefined, appIds: readonly string[]): Record<string, number> {
  const counts = Object.fromEntries(appIds.map((appId) => [appId, 1]));
  const spec = text?.trim();
  if (!spec) return counts;
  const count = (value: string, what: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > MAX_REPLICAS) {
      throw new ScriptError(`REPLICAS: ${what} needs a whole number from 1 to ${MAX_REPLICAS}, not "${value}"`);
    }
    return n;
  };
  if (!spec.includes(':')) {
    const n = count(spec, 'every app');
    return Object.fromEntries(appIds.map((appId) => [appId, n]));
  }
  for (const pair of spec.split(',')) {
    const [appId = '', value = ''] = pair.split(':').map((part) => part.trim());
    if (!appIds.includes(appId))
      throw new ScriptError(`REPLICAS: no app "${appId}" (the apps are ${appIds.join(', ')})`);
    counts[appId] = count(value, appId);
  }
  return counts;
}

/** The name of replica `index` (from 0) of an app: the first is the app id, the others `<appId>-<n>`. */
export const replicaName = (appId: string, index: number) => (index === 0 ? appId : `${appId}-${index + 1}`);
