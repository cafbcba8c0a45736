// Obtains everything the system runs on, from package registries only (see ../shared/RUNTIME.md):
// daprd, placement, scheduler and sentry built from the dapr Go module, the Dapr CLI from its Go module, Redis,
// Chromium and (for the tests) PostgreSQL from Debian, the Zipkin server jar from Maven Central. Idempotent: what is already installed
// and new enough (ours or the user's) is reused, and a user's own files are never overwritten.
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { buildServices } from './lib/build.ts';
import {
  checkGoModule,
  etcdCronSums,
  fileDigest,
  goSumLines,
  sha256Matches,
  zipkinJarSha256,
} from './lib/checksums.ts';
import { postgresBinDir, postgresVersion } from './lib/postgres.ts';
import { httpOk, isExecutable, mustRun, redisAnswers, run, which } from './lib/proc.ts';
import { cacheDir, daprBin, daprBinDir, infraPorts, versionAtLeast, versions, zipkinJar } from './lib/runtime.ts';
import { info, main, ScriptError, step, warn } from './lib/ui.ts';

type RuntimeBinary = 'daprd' | 'placement' | 'scheduler' | 'sentry';

/** Records which files in ~/.dapr/bin this project built, so that it only ever replaces its own. */
const ownershipFile = join(daprBinDir, '.built-by-dapr-orders.json');

function builtByUs(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(ownershipFile, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function recordBuilt(name: string, version: string): Promise<void> {
  await writeFile(ownershipFile, `${JSON.stringify({ ...builtByUs(), [name]: version }, null, 2)}\n`);
}

/** The version a Dapr binary reports, or undefined when it cannot tell. */
export async function binaryVersion(path: string): Promise<string | undefined> {
  const result = await run(path, ['--version']);
  const match = /(\d+\.\d+\.\d+(?:-[\w.]+)?)/.exec(`${result.stdout}\n${result.stderr}`);
  return result.code === 0 && match ? match[1] : undefined;
}

function requireGo(what: string): string {
  const go = which('go');
  if (!go) {
    throw new ScriptError(
      `Building ${what} needs Go (1.24 or newer) and none is on PATH: install Go from your package manager or go.dev, then run this again.`,
    );
  }
  return go;
}

const moduleDirs = new Map<string, Promise<string>>();

/** Downloads a Go module (and, on first build, its dependencies come with the build); once per run. */
function moduleDir(module: string): Promise<string> {
  let dir = moduleDirs.get(module);
  if (!dir) {
    dir = step(`downloading the Go module ${module}`, () => downloadModule(module));
    moduleDirs.set(module, dir);
  }
  return dir;
}

async function downloadModule(module: string): Promise<string> {
  const result = await mustRun(requireGo(module), ['mod', 'download', '-json', module]);
  const dir = (JSON.parse(result.stdout) as { Dir?: string }).Dir;
  if (!dir) throw new ScriptError(`go mod download ${module} did not report a module directory`);
  return dir;
}

/** Downloads the scheduler's swapped module and checks it against its pinned go.sum hashes. */
async function checkSwappedModule(): Promise<void> {
  const spec = `${etcdCronSums.path}@${etcdCronSums.version}`;
  const result = await mustRun(requireGo(spec), ['mod', 'download', '-json', spec]);
  checkGoModule(JSON.parse(result.stdout), etcdCronSums);
  info(`  ${spec}: go.sum hashes as pinned (${etcdCronSums.sum})`);
}

/** go build into a temporary name first, so an interrupted build never leaves a broken binary behind. */
async function goBuild(dir: string, target: string, pkg: string, flags: string[]): Promise<void> {
  const partial = `${target}.partial`;
  await mustRun('go', ['build', '-C', dir, '-trimpath', ...flags, '-o', partial, pkg]);
  renameSync(partial, target);
}

const runtimeLdflags = `-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${versions.dapr}`;

async function buildRuntimeBinary(name: RuntimeBinary): Promise<void> {
  const dir = await moduleDir(`github.com/dapr/dapr@v${versions.dapr}`);
  const target = daprBin(name);
  const expected = {
    daprd: 'about 5 min',
    placement: 'under a minute',
    scheduler: 'about a minute',
    sentry: 'under a minute',
  }[name];
  info(`  ${name} is built from source on the first run (${expected} on 2 cores; dependencies download first)`);
  await step(`building ${name} ${versions.dapr}`, async () => {
    if (name === 'daprd') {
      await buildDaprd(dir, target);
    } else if (name === 'placement' || name === 'sentry') {
      // Sentry, the certificate authority that gives every sidecar its mTLS identity, builds as placement does.
      await goBuild(dir, target, `./cmd/${name}`, ['-ldflags', runtimeLdflags]);
    } else {
      // The module's own go-etcd-cron version is not served by the proxy: build with a copy of go.mod
      // that swaps it for the next patch release (the module directory itself is read-only). That module
      // is not in dapr's go.sum: its hashes are pinned in our code, checked here and given to go.sum, so
      // that go build refuses any other content too.
      await checkSwappedModule();
      const modfileDir = await mkdtemp(join(tmpdir(), 'dapr-scheduler-'));
      try {
        const goMod = readFileSync(join(dir, 'go.mod'), 'utf8');
        await writeFile(
          join(modfileDir, 'go.mod'),
          `${goMod}\nreplace ${etcdCronSums.path} => ${etcdCronSums.path} ${etcdCronSums.version}\n`,
        );
        const goSum = readFileSync(join(dir, 'go.sum'), 'utf8');
        await writeFile(join(modfileDir, 'go.sum'), `${goSum.trimEnd()}\n${goSumLines(etcdCronSums)}`);
        await goBuild(dir, target, './cmd/scheduler', [
          `-modfile=${join(modfileDir, 'go.mod')}`,
          '-mod=mod',
          '-ldflags',
          runtimeLdflags,
        ]);
      } finally {
        rmSync(modfileDir, { recursive: true, force: true });
      }
    }
  });
  await recordBuilt(name, versions.dapr);
  if (name === 'daprd') await recordBuilt(DAPRD_COMPONENTS_KEY, DAPRD_COMPONENTS);
}

/**
 * The components our daprd is built with: Dapr's stable set (the state stores, pub/subs and secret stores
 * of the major products, Redis and PostgreSQL among them) plus the SQLite name resolver that
 * components/config.yaml uses, which Dapr itself builds only into its all-components flavor. Each sidecar
 * holds about 40 MB less than with all components, and a stack runs five (bench/results/experiments.md).
 */
const DAPRD_COMPONENTS = 'stablecomponents+nameresolution.sqlite';
const DAPRD_COMPONENTS_KEY = 'daprd-components';
const SQLITE_RESOLVER = join('cmd', 'daprd', 'components', 'nameresolution_sqlite.go');

/**
 * Builds daprd from a copy of the module (the module cache is read-only, and `go build -overlay` may not
 * replace files in it) in which the SQLite resolver's file also carries the stablecomponents tag: the copy's
 * one change.
 */
async function buildDaprd(dir: string, target: string): Promise<void> {
  const copy = await mkdtemp(join(tmpdir(), 'daprd-src-'));
  try {
    await mustRun('cp', ['-R', `${dir}/.`, copy]);
    await mustRun('chmod', ['-R', 'u+w', copy]);
    const resolver = join(copy, SQLITE_RESOLVER);
    const source = readFileSync(resolver, 'utf8');
    const enabled = source.replace(/^\/\/go:build allcomponents$/m, '//go:build allcomponents || stablecomponents');
    if (enabled === source) {
      throw new ScriptError(
        `${SQLITE_RESOLVER} of dapr ${versions.dapr} has no "//go:build allcomponents" line to extend`,
      );
    }
    await writeFile(resolver, enabled);
    await goBuild(copy, target, './cmd/daprd', ['-tags', 'stablecomponents', '-ldflags', runtimeLdflags]);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * The version of a runtime binary in ~/.dapr/bin. daprd says it; placement, scheduler and sentry have no
 * --version, so theirs is what we recorded when we built them, or else that of the daprd beside them.
 */
async function installedVersion(name: RuntimeBinary): Promise<string | undefined> {
  if (name !== 'daprd') {
    const recorded = builtByUs()[name];
    if (recorded) return recorded;
  }
  return binaryVersion(daprBin('daprd'));
}

/** daprd, placement, scheduler, sentry in ~/.dapr/bin: reused when new enough, linked from PATH, or built. */
async function ensureRuntimeBinary(name: RuntimeBinary): Promise<void> {
  const target = daprBin(name);
  if (existsSync(target)) {
    const version = await installedVersion(name);
    const ours = builtByUs();
    const outdatedBuild =
      name === 'daprd' && ours.daprd !== undefined && ours[DAPRD_COMPONENTS_KEY] !== DAPRD_COMPONENTS;
    if (version && versionAtLeast(version, versions.minimumDapr) && !outdatedBuild) {
      info(`✓ ${name} ${version} (${target})`);
      return;
    }
    if (outdatedBuild) info(`  ${target} is our earlier build with all of Dapr's components: rebuilding it leaner`);
    if (ours[name] === undefined) {
      throw new ScriptError(
        `${target} is Dapr ${version ?? 'of unknown version'}, older than the ${versions.minimumDapr} this project needs, and it is not ours to replace: upgrade your Dapr install, or set DAPR_RUNTIME_PATH to another folder and run this again to build ${versions.dapr} there.`,
      );
    }
  } else {
    const onPath = which(name);
    const version = name === 'daprd' && onPath ? await binaryVersion(onPath) : undefined;
    if (onPath && version && versionAtLeast(version, versions.minimumDapr)) {
      // The CLI looks for daprd in ~/.dapr/bin only: point it at the user's own binary.
      symlinkSync(onPath, target);
      info(`✓ ${name} ${version} (${onPath}, linked into ${daprBinDir})`);
      return;
    }
  }
  await buildRuntimeBinary(name);
}

/** The Dapr CLI to run `dapr run -f .` with: the user's own when 1.12 or newer, else ours. */
export async function ensureDaprCli(): Promise<string> {
  const userCli = which('dapr');
  if (userCli) {
    const version = await binaryVersion(userCli);
    if (version && versionAtLeast(version, versions.minimumCli)) {
      info(`✓ dapr CLI ${version} (${userCli})`);
      return userCli;
    }
  }
  const ours = daprBin('dapr');
  if (isExecutable(ours)) {
    const version = await binaryVersion(ours);
    if (version && versionAtLeast(version, versions.minimumCli)) {
      info(`✓ dapr CLI ${version} (${ours})`);
      return ours;
    }
  }
  const dir = await moduleDir(`github.com/dapr/cli@v${versions.cli}`);
  await step(`building the Dapr CLI ${versions.cli} (about 1.5 min)`, () =>
    goBuild(dir, ours, '.', ['-ldflags', `-s -w -X main.version=${versions.cli} -X main.apiVersion=1.0`]),
  );
  await recordBuilt('dapr', versions.cli);
  return ours;
}

export async function ensureDaprRuntime(): Promise<void> {
  mkdirSync(daprBinDir, { recursive: true });
  for (const name of ['daprd', 'placement', 'scheduler', 'sentry'] as const) await ensureRuntimeBinary(name);
}

/** Installs Debian packages, as root or through password-less sudo; otherwise says what to run. */
async function aptInstall(packages: string[], purpose: string): Promise<void> {
  const command = `apt-get install ${packages.join(' ')}`;
  if (!which('apt-get')) {
    throw new ScriptError(
      `${purpose} needs ${packages.join(', ')} and this machine has no apt-get: install it with your package manager, then run this again.`,
    );
  }
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && which('sudo') && (await run('sudo', ['-n', 'true'])).code === 0;
  if (!asRoot && !sudo) {
    throw new ScriptError(`${purpose} needs ${packages.join(', ')}: run \`sudo ${command}\`, then run this again.`);
  }
  const prefix = asRoot ? [] : ['sudo', '-n'];
  const [cmd, ...args] = [...prefix, 'apt-get'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await step(`installing ${packages.join(', ')} from Debian (${purpose})`, async () => {
    await mustRun(cmd ?? 'apt-get', [...args, 'update', '-q'], { env });
    await mustRun(cmd ?? 'apt-get', [...args, 'install', '-y', '-q', ...packages], { env });
  });
}

/** redis-server on PATH (the tests always run their own; `npm start` only when :6379 is free). */
export async function ensureRedis(options: { reuseRunning: boolean }): Promise<void> {
  if (options.reuseRunning && (await redisAnswers(infraPorts.redis))) {
    info(`✓ Redis answering on :${infraPorts.redis} (reused)`);
    return;
  }
  if (!which('redis-server')) await aptInstall(['redis-server'], 'the state store and pub/sub');
  info(`✓ redis-server (${which('redis-server')})`);
}

/**
 * The Zipkin server jar from Maven Central, checked against the SHA-256 pinned in scripts/lib/checksums.ts
 * and against Maven Central's published SHA-1. A cached jar that is not the pinned one is fetched again.
 */
export async function ensureZipkin(options: { reuseRunning: boolean }): Promise<void> {
  if (options.reuseRunning && (await httpOk(`http://127.0.0.1:${infraPorts.zipkin}/health`))) {
    info(`✓ Zipkin answering on :${infraPorts.zipkin} (reused)`);
    return;
  }
  if (!which('java')) {
    throw new ScriptError(
      'Zipkin needs Java 17 or newer and none is on PATH: install a JRE (e.g. `apt-get install openjdk-17-jre-headless`), then run this again.',
    );
  }
  if (existsSync(zipkinJar)) {
    const cached = await sha256Matches(zipkinJar, zipkinJarSha256);
    if (cached.matches) {
      info(`✓ Zipkin ${versions.zipkin} jar, SHA-256 as pinned (${zipkinJar})`);
      return;
    }
    warn(`${zipkinJar} has SHA-256 ${cached.actual}, not the pinned ${zipkinJarSha256}: fetching it again`);
    rmSync(zipkinJar, { force: true });
  }
  const url = `https://repo1.maven.org/maven2/io/zipkin/zipkin-server/${versions.zipkin}/zipkin-server-${versions.zipkin}-exec.jar`;
  await step(`downloading the Zipkin ${versions.zipkin} server jar from Maven Central (131 MB)`, async () => {
    mkdirSync(cacheDir, { recursive: true });
    const sha1Response = await fetch(`${url}.sha1`);
    const publishedSha1 = sha1Response.ok ? (await sha1Response.text()).trim().slice(0, 40) : undefined;
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new ScriptError(`Maven Central answered ${response.status} for ${url}`);
    const partial = `${zipkinJar}.${process.pid}.partial`;
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
        createWriteStream(partial),
      );
      const downloaded = await sha256Matches(partial, zipkinJarSha256);
      if (!downloaded.matches) {
        throw new ScriptError(
          `the Zipkin jar from ${url} has SHA-256 ${downloaded.actual}, not the pinned ${zipkinJarSha256}: not using it`,
        );
      }
      const sha1 = await fileDigest(partial, 'sha1');
      if (publishedSha1 !== undefined && sha1 !== publishedSha1) {
        throw new ScriptError(`the Zipkin jar's SHA-1 is ${sha1}, Maven Central says ${publishedSha1}: try again`);
      }
      info(
        `  SHA-256 ${downloaded.actual} as pinned; ${publishedSha1 ? `SHA-1 ${sha1} as Maven Central's .sha1 says` : `no .sha1 from Maven Central (HTTP ${sha1Response.status})`}`,
      );
      renameSync(partial, zipkinJar);
    } finally {
      rmSync(partial, { force: true });
    }
  });
}

/** Debian's Chromium, for the page tests (never a browser download of a test tool's own). */
export async function ensureChromium(): Promise<string> {
  const existing = which('chromium') ?? which('chromium-browser');
  if (existing) {
    info(`✓ chromium (${existing})`);
    return existing;
  }
  await aptInstall(['chromium'], 'the page tests');
  return which('chromium') ?? '/usr/bin/chromium';
}

/**
 * PostgreSQL's server binaries, for the test run on PostgreSQL (it starts a throwaway cluster of its own;
 * Debian's package also sets up a system cluster, which we leave alone).
 */
export async function ensurePostgres(): Promise<string> {
  let binDir = postgresBinDir();
  if (!binDir) {
    await aptInstall(['postgresql'], 'the test run on PostgreSQL');
    binDir = postgresBinDir();
    if (!binDir) throw new ScriptError('apt installed postgresql, yet no initdb and postgres are to be found');
  }
  const version = await postgresVersion(binDir);
  info(`✓ PostgreSQL${version ? ` ${version}` : ''} server (${binDir})`);
  return binDir;
}

export interface BootstrapOptions {
  /** Reuse a Redis on :6379 and a Zipkin on :9411 (npm start); the tests run their own. */
  reuseRunning: boolean;
  chromium: boolean;
  /** PostgreSQL's server, which only the tests use. */
  postgres?: boolean;
}

/** Everything, in order, and the services compiled from their sources; returns the Dapr CLI to use. */
export async function bootstrap(options: BootstrapOptions): Promise<{ cli: string }> {
  await step('compiling the services (esbuild)', () => buildServices());
  await ensureDaprRuntime();
  const cli = await ensureDaprCli();
  await ensureRedis(options);
  await ensureZipkin(options);
  if (options.chromium) await ensureChromium();
  if (options.postgres) await ensurePostgres();
  return { cli };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(async () => {
    const began = Date.now();
    await bootstrap({ reuseRunning: true, chromium: process.argv.includes('--chromium') });
    info(`bootstrap done in ${Math.round((Date.now() - began) / 1000)} s`);
  });
}
