// Sentry, Dapr's certificate authority, run by hand as placement and scheduler are: it gives each sidecar
// an X.509 identity (spiffe://public/ns/default/<app id>) for mTLS between sidecars, which is what Dapr's
// access control reads the caller's app id from. Each stack has a CA of its own, generated into its folder.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, Service, waitFor } from './proc.ts';
import { daprBin, goRuntimeEnv } from './runtime.ts';

/** What every sidecar, placement and scheduler need to use mTLS against one Sentry. */
export interface Mtls {
  /** host:port of Sentry's gRPC API (daprd --sentry-address). */
  sentryAddress: string;
  /** The CA's root certificate (PEM), which daprd reads from DAPR_TRUST_ANCHORS. */
  trustAnchors: string;
  /** The same, as a file: placement's and scheduler's --trust-anchors-file. */
  trustAnchorsFile: string;
}

/** The control plane's trust domain: daprd's --control-plane-trust-domain default, and Sentry's. */
export const CONTROL_PLANE_TRUST_DOMAIN = 'localhost';

const CREDENTIALS = ['ca.crt', 'issuer.crt', 'issuer.key'] as const;

/**
 * Sentry's own configuration (a standalone Sentry reads a Configuration file): mTLS with day-long workload
 * certificates. Without a token validator it signs whatever app id a local process asks for (its
 * "insecure" validator): on one machine that is only as strong as the user account the stack runs under.
 */
const SENTRY_CONFIG = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: sentry
spec:
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
`;

export class Sentry {
  readonly credentialsDir: string;
  readonly configFile: string;

  constructor(private readonly dir: string) {
    this.credentialsDir = join(dir, 'sentry');
    this.configFile = join(dir, 'sentry.yaml');
  }

  private flags(port: number, healthz: number, metrics: number): string[] {
    const flags: Record<string, string> = {
      '--config': this.configFile,
      '--issuer-credentials': this.credentialsDir,
      '--trust-domain': CONTROL_PLANE_TRUST_DOMAIN,
      '--listen-address': '127.0.0.1',
      '--port': String(port),
      '--healthz-port': String(healthz),
      '--metrics-port': String(metrics),
    };
    return Object.entries(flags).flat();
  }

  /**
   * A fresh CA for this run. Sentry generates one itself when its folder is empty, but then restarts its own
   * servers on seeing the new files, and half the time dies of its healthz port still being bound
   * (measured: 3 of 6 starts). So a first Sentry only generates, and is stopped once the files are there.
   */
  async issueCredentials(logDir: string): Promise<void> {
    rmSync(this.credentialsDir, { recursive: true, force: true });
    mkdirSync(this.credentialsDir, { recursive: true });
    writeFileSync(this.configFile, SENTRY_CONFIG);
    const args = this.flags(await freePort(), await freePort(), await freePort());
    const generator = new Service('sentry-ca', daprBin('sentry'), args, join(logDir, 'sentry-ca.log'), {
      cwd: this.dir,
      env: goRuntimeEnv(),
    });
    try {
      await waitFor('sentry to generate its CA', async () => this.hasCredentials(), {
        timeoutMs: 30_000,
        alive: generator.exitReason,
      });
    } finally {
      await generator.stop(5_000);
    }
  }

  private hasCredentials(): boolean {
    return CREDENTIALS.every((name) => {
      const file = join(this.credentialsDir, name);
      return existsSync(file) && readFileSync(file, 'utf8').includes('-----END');
    });
  }

  /** Sentry's arguments on `port`, serving the CA issued before. */
  args(port: number, healthz: number, metrics: number): string[] {
    return this.flags(port, healthz, metrics);
  }

  mtls(port: number): Mtls {
    const trustAnchorsFile = join(this.credentialsDir, 'ca.crt');
    return {
      sentryAddress: `127.0.0.1:${port}`,
      trustAnchors: readFileSync(trustAnchorsFile, 'utf8'),
      trustAnchorsFile,
    };
  }
}

/** daprd's arguments and environment for mTLS through `mtls`'s Sentry (boolean flags take no value). */
export function sidecarMtls(mtls: Mtls): { args: string[]; env: Record<string, string> } {
  return {
    args: ['--enable-mtls', '--sentry-address', mtls.sentryAddress],
    env: { DAPR_TRUST_ANCHORS: mtls.trustAnchors },
  };
}

/** placement's and scheduler's arguments for mTLS: their own identity from Sentry, our CA for the sidecars'. */
export function controlPlaneMtls(mtls: Mtls): string[] {
  return [
    '--tls-enabled',
    '--sentry-address',
    mtls.sentryAddress,
    '--trust-anchors-file',
    mtls.trustAnchorsFile,
    '--trust-domain',
    CONTROL_PLANE_TRUST_DOMAIN,
  ];
}
