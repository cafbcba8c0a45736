// The Kubernetes manifests, checked without a cluster: every YAML file under deploy/kubernetes parses, and
// what the services and the local setup rely on holds there too. App ids, ports and the health path come
// from dapr.yaml, the component scopes and the subscription from components/*.yaml, so a change there
// that the manifests miss fails here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readDaprRunFile } from '../../scripts/lib/daprfile.ts';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked field by field below
type Doc = any;

interface Manifest {
  /** Relative to deploy/kubernetes. */
  file: string;
  doc: Doc;
}

const here = dirname(fileURLToPath(import.meta.url));
const daprFile = readDaprRunFile();
const apps = new Map(daprFile.apps.map((app) => [app.appId, app]));
const appIds = [...apps.keys()];

const NAMESPACE = 'dapr-orders';
const SECRETS_EXAMPLE = 'secrets.example.yaml';
const PRODUCTION = 'production-examples/';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

const files = yamlFiles(here).map((path) => relative(here, path));
const parseErrors: string[] = [];
const manifests: Manifest[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(here, file), 'utf8')).flatMap((document) => {
    for (const problem of [...document.errors, ...document.warnings]) parseErrors.push(`${file}: ${problem.message}`);
    const doc = document.toJS();
    return doc == null ? [] : [{ file, doc }];
  }),
);

const ofKind = (kind: string, where: (m: Manifest) => boolean = () => true) =>
  manifests.filter((m) => m.doc.kind === kind && where(m));
const inProduction = (m: Manifest) => m.file.startsWith(PRODUCTION);
const notKustomization = (m: Manifest) => m.doc.kind !== 'Kustomization';

/** The local component (components/*.yaml) of that kind and name. */
function local(kind: string, name: string): Doc {
  for (const file of readdirSync(daprFile.resourcesPath)) {
    const doc = parse(readFileSync(join(daprFile.resourcesPath, file), 'utf8'));
    if (doc?.kind === kind && doc.metadata?.name === name) return doc;
  }
  throw new Error(`components/ has no ${kind} ${name}`);
}

const metadataOf = (component: Doc, name: string) =>
  (component.spec.metadata as Doc[]).find((entry) => entry.name === name);

/** Secret values as they would be used: stringData as is, data decoded when it is base64. */
function secretValues(secret: Doc): string[] {
  const data = Object.values(secret.data ?? {}).map((value) => {
    const text = String(value);
    return /^[A-Za-z0-9+/]+=*$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : text;
  });
  return [...Object.values(secret.stringData ?? {}).map(String), ...data];
}

/** A value that could be a real token: 16 or more token characters outside the <placeholder> parts. */
const looksLikeToken = (value: string) => /[A-Za-z0-9+/=_-]{16,}/.test(value.replace(/<[^<>]*>/g, ''));

/** The people's tokens each service reads from its environment (services/<app>/src/app.ts). */
const personTokens: Record<string, string[]> = {
  orderprocessing: ['APPROVER_TOKENS', 'ADMIN_TOKEN'],
  shipping: ['ADMIN_TOKEN'],
};

const deployments = new Map(
  ofKind('Deployment', (m) => apps.has(m.doc.metadata?.name)).map((m) => [m.doc.metadata.name, m]),
);

describe('deploy/kubernetes', () => {
  it('parses, and every document names its apiVersion, kind, name and namespace', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(parseErrors).toEqual([]);
    for (const { file, doc } of manifests) {
      expect(doc.apiVersion, file).toEqual(expect.any(String));
      expect(doc.kind, file).toEqual(expect.any(String));
      expect(doc.metadata?.name, file).toEqual(expect.any(String));
      // Named in each file, so that plain `kubectl apply -f` works as well as kustomize.
      if (doc.kind !== 'Namespace' && doc.kind !== 'Kustomization') {
        expect(doc.metadata.namespace, file).toBe(NAMESPACE);
      }
    }
  });

  it('has a kustomization per folder listing every manifest there, and never the Secrets example', () => {
    const kustomizations = ofKind('Kustomization');
    expect(kustomizations.map((m) => m.file).sort()).toEqual([
      'base/kustomization.yaml',
      'dev/kustomization.yaml',
      'production-examples/kustomization.yaml',
    ]);
    const listed = new Set<string>();
    for (const { file, doc } of kustomizations) {
      const dir = dirname(file);
      for (const entry of [
        ...(doc.resources ?? []),
        ...(doc.patches ?? []).flatMap((patch: Doc) => patch.path ?? []),
      ]) {
        const target = join(dir, entry);
        expect(existsSync(join(here, target)), `${file}: ${entry}`).toBe(true);
        if (statSync(join(here, target)).isDirectory()) {
          expect(existsSync(join(here, target, 'kustomization.yaml')), `${file}: ${entry}`).toBe(true);
        }
        listed.add(target);
      }
    }
    expect(listed.has(SECRETS_EXAMPLE)).toBe(false);
    const unlisted = files.filter((file) => file !== SECRETS_EXAMPLE && !file.endsWith('kustomization.yaml'));
    expect(unlisted.filter((file) => !listed.has(file))).toEqual([]);
  });

  it('has one Deployment and one Service per app of dapr.yaml, on its port', () => {
    expect([...deployments.keys()].sort()).toEqual([...appIds].sort());
    for (const [appId, app] of apps) {
      const { doc } = deployments.get(appId) as Manifest;
      const pod = doc.spec.template;
      expect(doc.spec.selector.matchLabels, appId).toEqual({ 'app.kubernetes.io/name': appId });
      expect(pod.metadata.labels['app.kubernetes.io/name'], appId).toBe(appId);
      const [container] = pod.spec.containers;
      expect(pod.spec.containers, appId).toHaveLength(1);
      expect(container.image, appId).toBe(`dapr-orders/${appId}:dev`);
      expect(container.ports, appId).toEqual([{ name: 'http', containerPort: app.appPort }]);

      const services = ofKind('Service', (m) => m.doc.metadata.name === appId);
      expect(services, appId).toHaveLength(1);
      const service = services[0]?.doc;
      expect(service.spec.selector, appId).toEqual({ 'app.kubernetes.io/name': appId });
      expect(service.spec.ports, appId).toEqual([{ name: 'http', port: app.appPort, targetPort: 'http' }]);
    }
  });

  it('gives every app the Dapr annotations, with its app id and port from dapr.yaml', () => {
    const configurations = ofKind('Configuration').map((m) => m.doc.metadata.name);
    for (const [appId, app] of apps) {
      const annotations = (deployments.get(appId) as Manifest).doc.spec.template.metadata.annotations;
      expect(annotations, appId).toMatchObject({
        'dapr.io/enabled': 'true',
        'dapr.io/app-id': appId,
        'dapr.io/app-port': String(app.appPort),
        'dapr.io/config': appId,
        'dapr.io/app-token-secret': `${appId}-app-api-token`,
        'dapr.io/api-token-secret': `${appId}-dapr-api-token`,
        'dapr.io/enable-app-health-check': 'true',
        'dapr.io/app-health-check-path': daprFile.appHealthCheckPath,
        'dapr.io/log-as-json': 'true',
      });
      expect(configurations).toContain(annotations['dapr.io/config']);
    }
  });

  it('runs every app as dapr.yaml does: port, 0.0.0.0, tokens from Secrets, probes on the health path', () => {
    for (const [appId, app] of apps) {
      const pod = (deployments.get(appId) as Manifest).doc.spec.template;
      const [container] = pod.spec.containers;
      const env = new Map<string, Doc>((container.env as Doc[]).map((entry) => [entry.name, entry]));
      expect(env.get('APP_PORT')?.value, appId).toBe(String(app.appPort));
      expect(env.get('APP_HOST')?.value, appId).toBe('0.0.0.0');
      expect(env.get('LOG_LEVEL')?.value, appId).toBe('info');

      const annotations = pod.metadata.annotations;
      const fromSecret = (name: string) => env.get(name)?.valueFrom?.secretKeyRef;
      // The same Secrets as the sidecar's, so that app and sidecar agree on both tokens.
      expect(fromSecret('DAPR_API_TOKEN'), appId).toEqual({
        name: annotations['dapr.io/api-token-secret'],
        key: 'token',
      });
      expect(fromSecret('APP_API_TOKEN'), appId).toEqual({
        name: annotations['dapr.io/app-token-secret'],
        key: 'token',
      });
      const tokens = [...env.keys()].filter((name) => /TOKEN/.test(name));
      expect(tokens.sort(), appId).toEqual(['APP_API_TOKEN', 'DAPR_API_TOKEN', ...(personTokens[appId] ?? [])].sort());
      for (const name of tokens) {
        expect(env.get(name)?.value, `${appId} ${name}`).toBeUndefined();
        expect(fromSecret(name)?.name, `${appId} ${name}`).toEqual(expect.any(String));
      }

      for (const probe of ['readinessProbe', 'livenessProbe']) {
        expect(container[probe]?.httpGet, `${appId} ${probe}`).toEqual({
          path: daprFile.appHealthCheckPath,
          port: 'http',
        });
      }
      for (const kind of ['requests', 'limits']) {
        expect(Object.keys(container.resources?.[kind] ?? {}).sort(), `${appId} ${kind}`).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('starts every app with the command dapr.yaml runs it with: the image’s CMD', () => {
    const dockerfile = readFileSync(join(here, '..', 'Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(cmd).toBeDefined();
    for (const [appId, app] of apps) expect(JSON.parse(cmd ?? '[]'), appId).toEqual(app.command);
  });

  it('runs every app as non-root, read-only, without privilege escalation', () => {
    for (const appId of appIds) {
      const { spec } = (deployments.get(appId) as Manifest).doc.spec.template;
      expect(spec.securityContext, appId).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.securityContext.runAsUser, appId).toBeGreaterThan(0);
      expect(spec.containers[0].securityContext, appId).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      // /tmp is the only writable place (Node's scratch space).
      const tmp = spec.containers[0].volumeMounts.find((mount: Doc) => mount.mountPath === '/tmp');
      expect(spec.volumes.find((volume: Doc) => volume.name === tmp?.name)?.emptyDir, appId).toBeDefined();
    }
  });

  it('runs two replicas of every service, spread over nodes, with a disruption budget each', () => {
    for (const [appId, { doc }] of deployments) {
      expect(doc.spec.replicas, appId).toBe(2);
      expect(doc.spec.template.spec.topologySpreadConstraints?.[0]?.topologyKey, appId).toBe('kubernetes.io/hostname');
    }
    const budgets = ofKind('PodDisruptionBudget').map((m) => m.doc.spec);
    expect(budgets).toHaveLength(deployments.size);
    for (const budget of budgets) expect(budget.minAvailable).toBe(1);
  });

  it('samples the same share of orders in the apps and their sidecars in production, and every order in the base', () => {
    const [production] = ofKind('Kustomization', inProduction).map((m) => m.doc);
    const patchOf = (kind: string) =>
      parse(production.patches.find((p: Doc) => p.target?.kind === kind)?.patch ?? '[]') as Doc[];
    const [rate] = patchOf('Configuration').filter((op) => op.path === '/spec/tracing/samplingRate');
    const env = new Map(
      patchOf('Deployment')
        .filter((op) => op.op === 'add' && op.path === '/spec/template/spec/containers/0/env/-')
        .map((op) => [op.value.name, op.value.value]),
    );
    expect(rate?.value).toBe('0.1');
    expect(env.get('OTEL_TRACES_SAMPLER')).toBe('parentbased_traceidratio');
    expect(env.get('OTEL_TRACES_SAMPLER_ARG')).toBe(rate?.value);
    // The paths the patches write to exist in every base Configuration and Deployment.
    for (const { doc } of ofKind('Configuration', (m) => !inProduction(m)))
      expect(doc.spec.tracing.samplingRate).toBe('1');
    for (const [appId, { doc }] of deployments) {
      expect(Array.isArray(doc.spec.template.spec.containers[0].env), appId).toBe(true);
      expect(
        doc.spec.template.spec.containers[0].env.map((e: Doc) => e.name),
        appId,
      ).not.toContain('OTEL_TRACES_SAMPLER');
    }
  });

  it('scopes every component to app ids of dapr.yaml, as components/*.yaml does', () => {
    const components = ofKind('Component');
    expect(components.map((m) => `${m.file} ${m.doc.metadata.name}`).sort()).toEqual([
      'base/dapr/pubsub.yaml orders',
      'base/dapr/statestore.yaml statestore',
      'production-examples/pubsub-kafka.yaml orders',
      'production-examples/statestore-postgresql.yaml statestore',
    ]);
    for (const { file, doc } of components) {
      expect(doc.scopes.length, file).toBeGreaterThan(0);
      for (const scope of doc.scopes) expect(appIds, `${file}: ${scope}`).toContain(scope);
      expect([...doc.scopes].sort(), file).toEqual([...local('Component', doc.metadata.name).scopes].sort());
      // Secrets come from Kubernetes Secrets (no auth.secretStore: the built-in `kubernetes` store).
      expect(doc.auth, file).toBeUndefined();
      for (const entry of doc.spec.metadata as Doc[]) {
        if (/password|connectionString/i.test(entry.name)) {
          expect(entry.value, `${file}: ${entry.name}`).toBeUndefined();
          expect(entry.secretKeyRef?.name, `${file}: ${entry.name}`).toEqual(expect.any(String));
        }
      }
    }
    const base = (name: string) => ofKind('Component', (m) => !inProduction(m) && m.doc.metadata.name === name)[0]?.doc;
    expect(base('statestore').spec.type).toBe(local('Component', 'statestore').spec.type);
    expect(metadataOf(base('statestore'), 'actorStateStore')?.value).toBe('true');
    expect(base('orders').spec.type).toBe(local('Component', 'orders').spec.type);
  });

  /** The one manifest of a kind, which must say what the local file of that kind and name says. */
  function mirrorOf(kind: string): Doc {
    const manifests = ofKind(kind);
    expect(manifests).toHaveLength(1);
    const { doc } = manifests[0] as Manifest;
    const own = local(kind, doc.metadata.name);
    expect([doc.apiVersion, doc.spec, doc.scopes]).toEqual([own.apiVersion, own.spec, own.scopes]);
    return doc;
  }

  it('subscribes notifications as components/subscription.yaml does', () => {
    const doc = mirrorOf('Subscription');
    expect(doc.spec).toMatchObject({
      pubsubname: 'orders',
      topic: 'notifications',
      routes: { default: '/notifications/bulk' },
      bulkSubscribe: { enabled: true },
    });
    expect(doc.scopes).toEqual(['notifications']);
  });

  it('retries failed deliveries to notifications as components/resiliency.yaml does', () => {
    const doc = mirrorOf('Resiliency');
    expect(doc.scopes).toEqual(['notifications']);
    expect(doc.spec.targets.components.orders.inbound.retry).toBe('untilHandled');
  });

  it('traces to Zipkin and leaves name resolution to the cluster', () => {
    const configurations = ofKind('Configuration');
    expect(configurations.map((m) => m.doc.metadata.name).sort()).toEqual([...appIds].sort());
    const shared = configurations.map((m) => {
      const { accessControl: _own, ...rest } = m.doc.spec;
      return rest;
    });
    for (const each of shared) expect(each).toEqual(shared[0]);
    const { spec } = (configurations[0] as Manifest).doc;
    expect(spec.tracing.zipkin.endpointAddress).toBe('http://zipkin:9411/api/v2/spans');
    // The apps' spans go there too, under their app ids (the image runs from /app: no name to guess from).
    for (const appId of appIds) {
      const [container] = (deployments.get(appId) as Manifest).doc.spec.template.spec.containers;
      const env = new Map<string, Doc>((container.env as Doc[]).map((entry) => [entry.name, entry.value]));
      expect(env.get('OTEL_SERVICE_NAME'), appId).toBe(appId);
      expect(env.get('OTEL_EXPORTER_ZIPKIN_ENDPOINT'), appId).toBe(spec.tracing.zipkin.endpointAddress);
    }
    expect(spec.nameResolution).toBeUndefined();
    // The apps cannot read the namespace's Secrets (the tokens) through their sidecar.
    expect(spec.secrets.scopes).toEqual([{ storeName: 'kubernetes', defaultAccess: 'deny' }]);
    const zipkin = ofKind('Service', (m) => m.doc.metadata.name === 'zipkin');
    expect(zipkin.map((m) => m.doc.spec.ports[0].port)).toEqual([9411]);
  });

  it('has a production example of PostgreSQL v2 as the actor state store, and of Kafka pub/sub', () => {
    const statestore = ofKind('Component', (m) => inProduction(m) && m.doc.metadata.name === 'statestore');
    expect(statestore).toHaveLength(1);
    const postgres = (statestore[0] as Manifest).doc;
    expect(postgres.spec).toMatchObject({ type: 'state.postgresql', version: 'v2' });
    expect(metadataOf(postgres, 'actorStateStore')?.value).toBe('true');
    expect(metadataOf(postgres, 'connectionString')?.secretKeyRef).toEqual({
      name: 'postgres-statestore',
      key: 'connectionString',
    });

    const kafka = ofKind('Component', (m) => inProduction(m) && m.doc.metadata.name === 'orders')[0]?.doc;
    expect(kafka.spec.type).toBe('pubsub.kafka');
    expect(metadataOf(kafka, 'authType')?.value).toBe('password');
  });

  it('holds no Secret but the placeholders of the example, which has every Secret the manifests name', () => {
    const secrets = ofKind('Secret');
    expect(secrets.filter((m) => m.file !== SECRETS_EXAMPLE).map((m) => m.file)).toEqual([]);
    const example = new Map(secrets.map((m) => [m.doc.metadata.name, m.doc]));
    for (const secret of example.values()) {
      for (const value of secretValues(secret)) expect(looksLikeToken(value), value).toBe(false);
    }

    // Every Secret key that the base and dev manifests read (env, components, sidecar annotations).
    const wanted = new Set<string>();
    const walk = (node: Doc): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (node.secretKeyRef) wanted.add(`${node.secretKeyRef.name}/${node.secretKeyRef.key}`);
        Object.values(node).forEach(walk);
      }
    };
    for (const m of manifests.filter((m) => !inProduction(m) && notKustomization(m))) walk(m.doc);
    for (const { doc } of deployments.values()) {
      const annotations = doc.spec.template.metadata.annotations;
      wanted.add(`${annotations['dapr.io/app-token-secret']}/token`);
      wanted.add(`${annotations['dapr.io/api-token-secret']}/token`);
    }
    const provided = [...example].flatMap(([name, secret]) =>
      Object.keys(secret.data ?? {}).map((key) => `${name}/${key}`),
    );
    expect([...wanted].sort()).toEqual(provided.sort());
  });

  it('tells a token from a placeholder', () => {
    expect(looksLikeToken('<base64 of the admin token>')).toBe(false);
    expect(looksLikeToken('chris:<token>,dana:<token>')).toBe(false);
    expect(looksLikeToken('chris:Yiex1Ovn8z2xPpOWckIiysV1')).toBe(true);
    expect(secretValues({ data: { token: Buffer.from('a-real-looking-token-1234').toString('base64') } })).toEqual([
      'a-real-looking-token-1234',
    ]);
  });
});

/** Each app's accessControl: the cluster's (base/dapr/configuration.yaml) or the local one (components/). */
function accessControlOf(appId: string, where: 'cluster' | 'local'): Doc {
  if (where === 'local') return parse(readFileSync(apps.get(appId)?.configFile ?? '', 'utf8')).spec.accessControl;
  return ofKind('Configuration', (m) => m.doc.metadata.name === appId)[0]?.doc.spec.accessControl;
}

/** What the access control lets `caller` do on `target`: would `verb` `operation` be allowed? */
function mayInvoke(target: string, caller: string, verb: string, operation: string, where: 'cluster' | 'local') {
  const acl = accessControlOf(target, where);
  const policy = (acl.policies ?? []).find((each: Doc) => each.appId === caller);
  const segmentMatches = (pattern: string, part: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}$`,
    ).test(part);
  const matches = (pattern: string) => {
    const [patterns, parts] = [pattern.split('/'), operation.split('/')];
    // A last `**` takes every path below it (Dapr's multi-stage wildcard).
    if (patterns.at(-1) === '**') {
      const prefix = patterns.slice(0, -1);
      return parts.length > prefix.length && prefix.every((each, i) => segmentMatches(each, parts[i] ?? ''));
    }
    return patterns.length === parts.length && patterns.every((each, i) => segmentMatches(each, parts[i] ?? ''));
  };
  const rule = (policy?.operations ?? []).find((each: Doc) => matches(each.name) && each.httpVerb.includes(verb));
  return (rule?.action ?? policy?.defaultAction ?? acl.defaultAction) === 'allow';
}

describe('Dapr access control', () => {
  // What orderprocessing's workflow invokes (services/orderprocessing/src/workflow/activities.ts), the
  // page's approval (services/notifications/src/ordersApi.ts), and orderprocessing's reads of the order
  // projection (services/orderprocessing/src/orderProjection.ts).
  const allowed = [
    ['inventory', 'orderprocessing', 'POST', '/reserve'],
    ['inventory', 'orderprocessing', 'POST', '/release'],
    ['payments', 'orderprocessing', 'POST', '/charge'],
    ['payments', 'orderprocessing', 'POST', '/refund'],
    ['shipping', 'orderprocessing', 'POST', '/ship'],
    ['shipping', 'orderprocessing', 'POST', '/cancel'],
    ['orderprocessing', 'notifications', 'POST', '/orders/order_riley_x7k2p/approve'],
    ['orderprocessing', 'notifications', 'GET', '/me'],
    ['notifications', 'orderprocessing', 'POST', '/projection/list'],
    ['notifications', 'orderprocessing', 'GET', '/projection/running'],
    ['notifications', 'orderprocessing', 'GET', '/projection/orders/order_riley_x7k2p/final'],
    ['notifications', 'orderprocessing', 'POST', '/projection/orders/order_riley_x7k2p/purged'],
  ] as const;
  const denied = [
    ['payments', 'notifications', 'POST', '/refund'],
    ['payments', 'inventory', 'POST', '/charge'],
    ['payments', 'orderprocessing', 'GET', '/payments/order_riley_x7k2p'],
    ['inventory', 'notifications', 'POST', '/reserve'],
    ['shipping', 'notifications', 'POST', '/ship'],
    ['orderprocessing', 'notifications', 'POST', '/orders'],
    ['orderprocessing', 'notifications', 'GET', '/orders/order_riley_x7k2p'],
    ['orderprocessing', 'payments', 'POST', '/orders/order_riley_x7k2p/approve'],
    ['notifications', 'orderprocessing', 'POST', '/notifications/bulk'],
    ['notifications', 'payments', 'GET', '/projection/running'],
    ['notifications', 'orderprocessing', 'DELETE', '/projection/orders/order_riley_x7k2p'],
    ['notifications', 'orderprocessing', 'GET', '/projection'],
  ] as const;

  it('denies by default in every configuration, in the cluster and locally', () => {
    for (const appId of appIds) {
      for (const where of ['cluster', 'local'] as const) {
        expect(accessControlOf(appId, where), `${appId} ${where}`).toMatchObject({
          defaultAction: 'deny',
          trustDomain: 'public',
        });
      }
    }
  });

  it('has the same policies in the cluster as locally, in the namespace of each', () => {
    for (const appId of appIds) {
      const cluster = accessControlOf(appId, 'cluster').policies ?? [];
      const local = accessControlOf(appId, 'local').policies ?? [];
      expect(cluster.map((policy: Doc) => policy.namespace)).toEqual(cluster.map(() => NAMESPACE));
      const withoutNamespace = (policies: Doc[]) => policies.map(({ namespace: _ns, ...rest }) => rest);
      expect(withoutNamespace(cluster), appId).toEqual(withoutNamespace(local));
    }
  });

  it.each(allowed)('lets %s take from %s: %s %s', (target, caller, verb, operation) => {
    for (const where of ['cluster', 'local'] as const) {
      expect(mayInvoke(target, caller, verb, operation, where), where).toBe(true);
    }
  });

  it.each(denied)('refuses %s from %s: %s %s', (target, caller, verb, operation) => {
    for (const where of ['cluster', 'local'] as const) {
      expect(mayInvoke(target, caller, verb, operation, where), where).toBe(false);
    }
  });
});

/**
 * Would a connection from a pod labelled `from` (undefined: from outside the namespace) to port `port` of
 * the pod labelled `to` be let in, by the NetworkPolicies of base and dev as Kubernetes reads them: refused
 * when some policy selects the pod and none of those allows it.
 */
function admitted(from: string | undefined, to: string, port: number): boolean {
  const labels = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': NAMESPACE });
  const selects = (selector: Doc, name: string) => {
    const own: Record<string, string> = labels(name);
    const byLabel = Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => own[key] === value);
    const byExpression = (selector?.matchExpressions ?? []).every(
      (expression: Doc) => expression.operator === 'In' && expression.values.includes(own[expression.key]),
    );
    return byLabel && byExpression;
  };
  const policies = ofKind('NetworkPolicy', (m) => !inProduction(m)).map((m) => m.doc);
  const applying = policies.filter((policy) => selects(policy.spec.podSelector, to));
  if (applying.length === 0) return true;
  return applying.some((policy) =>
    (policy.spec.ingress ?? []).some((rule: Doc) => {
      const portOk = !rule.ports || rule.ports.some((each: Doc) => each.port === port);
      const fromOk =
        !rule.from ||
        rule.from.some((peer: Doc) => from !== undefined && peer.podSelector && selects(peer.podSelector, from));
      return portOk && fromOk;
    }),
  );
}

describe('NetworkPolicies', () => {
  const SIDECAR = 50002; // daprd's internal gRPC port: sidecar to sidecar

  it('deny every ingress of the namespace by default', () => {
    const policies = ofKind('NetworkPolicy', (m) => m.doc.metadata.name === 'default-deny-ingress');
    expect(policies.map((m) => m.doc.spec)).toEqual([{ podSelector: {}, policyTypes: ['Ingress'] }]);
    for (const m of ofKind('NetworkPolicy')) expect(m.doc.spec.policyTypes, m.doc.metadata.name).toEqual(['Ingress']);
  });

  it.each([
    [undefined, 'orderprocessing', 3000, 'the API, from outside'],
    [undefined, 'notifications', 3001, 'the live page, from outside'],
    ['orderprocessing', 'inventory', SIDECAR, "the workflow's steps"],
    ['orderprocessing', 'payments', SIDECAR, "the workflow's steps"],
    ['orderprocessing', 'shipping', SIDECAR, "the workflow's steps"],
    ['notifications', 'orderprocessing', SIDECAR, "the page's approval"],
    ['orderprocessing', 'notifications', SIDECAR, "the order projection's reads"],
    ['orderprocessing', 'orderprocessing', SIDECAR, "the engine's actors between replicas"],
    ['payments', 'redis', 6379, 'the state store'],
    ['notifications', 'redis', 6379, 'the pub/sub'],
    ['shipping', 'zipkin', 9411, 'spans'],
  ] as const)('let %s reach %s on %i (%s)', (from, to, port, _why) => {
    expect(admitted(from, to, port)).toBe(true);
  });

  it.each([
    ['notifications', 'payments', SIDECAR, "notifications' pod cannot reach payments' sidecar"],
    ['notifications', 'payments', 3003, "nor payments' app"],
    ['notifications', 'inventory', SIDECAR, 'nor inventory'],
    ['inventory', 'payments', SIDECAR, 'one internal service another'],
    ['payments', 'orderprocessing', SIDECAR, "an internal service orderprocessing's sidecar"],
    ['payments', 'notifications', SIDECAR, "anyone else notifications' sidecar"],
    [undefined, 'payments', 3003, 'the outside an internal service'],
    [undefined, 'orderprocessing', SIDECAR, "the outside orderprocessing's sidecar"],
    [undefined, 'redis', 6379, 'the outside Redis'],
    [undefined, 'orderprocessing', 3500, "the outside a sidecar's API"],
  ] as const)('refuse %s → %s:%i (%s)', (from, to, port, _why) => {
    expect(admitted(from, to, port)).toBe(false);
  });
});
