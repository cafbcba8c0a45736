// The five sidecar configurations of components/ (one per app, for its access control) must not drift
// apart in what they share: tracing, workflow retention, name resolution, mTLS.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readDaprRunFile } from './daprfile.ts';

const apps = readDaprRunFile().apps;
const configOf = (file: string) => parse(readFileSync(file, 'utf8'));

describe("the apps' sidecar configurations", () => {
  it('each app has its own, named after it', () => {
    expect(new Set(apps.map((app) => app.configFile)).size).toBe(apps.length);
    for (const app of apps) expect(configOf(app.configFile).metadata.name).toBe(app.appId);
  });

  it('differ in their access control only', () => {
    const shared = apps.map((app) => {
      const { accessControl: _own, ...spec } = configOf(app.configFile).spec;
      return spec;
    });
    for (const spec of shared) expect(spec).toEqual(shared[0]);
    expect(shared[0]?.mtls).toEqual({ enabled: true });
  });

  it('deny by default, in the trust domain Sentry gives local sidecars (public)', () => {
    for (const app of apps) {
      const { accessControl } = configOf(app.configFile).spec;
      expect(accessControl.defaultAction, app.appId).toBe('deny');
      expect(accessControl.trustDomain, app.appId).toBe('public');
      for (const policy of accessControl.policies ?? []) {
        expect(policy, app.appId).toMatchObject({ defaultAction: 'deny', trustDomain: 'public', namespace: 'default' });
      }
    }
  });
});
