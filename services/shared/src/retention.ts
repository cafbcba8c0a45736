// How long a service keeps each kind of key: the per-order ones expire (Dapr state TTL, on Redis and on
// PostgreSQL v2), the few shared ones do not. Each service declares its rules once; the store it hands
// its code adds the TTL to every save of a matching key, so no write can forget it.
import type { SaveItem } from './dapr.ts';
import type { StateClient } from './state.ts';

export interface RetentionRule {
  /** Keys that start with this. */
  prefix: string;
  /** undefined: kept for good. */
  retentionMs: number | undefined;
}

/** The TTL of `key` in whole seconds (at least 1), or undefined when it is kept. */
export function ttlSecondsOf(key: string, rules: readonly RetentionRule[]): number | undefined {
  const ms = rules.find((rule) => key.startsWith(rule.prefix))?.retentionMs;
  return ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000));
}

/** `store`, with the TTL of its rules on every save of a matching key. */
export function withRetention<S extends StateClient>(store: S, rules: readonly RetentionRule[]): S {
  const saveState = (items: SaveItem[]) =>
    store.saveState(
      items.map((item) => {
        const ttlSeconds = item.ttlSeconds ?? ttlSecondsOf(item.key, rules);
        return ttlSeconds === undefined ? item : { ...item, ttlSeconds };
      }),
    );
  return new Proxy(store, {
    get: (target, property) => (property === 'saveState' ? saveState : Reflect.get(target, property, target)),
  });
}
