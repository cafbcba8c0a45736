// PostgreSQL for the test run that puts the state store on it: the server binaries (on PATH or Debian's
// /usr/lib/postgresql/<version>/bin), and a throwaway cluster: initdb into a temporary folder, a free port
// on the loopback, its unix socket in that folder, stopped and deleted afterwards. A system cluster (5432)
// is never touched. Settings are fast and unsafe (no fsync): nothing in it outlives the run.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, isExecutable, mustRun, run, Service, signalGroup, waitFor } from './proc.ts';
import { ScriptError } from './ui.ts';

const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The server refuses to run as root: when we are root, it runs as Debian's `postgres` system user. */
const SERVER_USER = 'postgres';
export const POSTGRES_DATABASE = 'dapr';

const hasServer = (dir: string) => ['initdb', 'postgres', 'pg_isready'].every((name) => isExecutable(join(dir, name)));

/** The folder holding initdb and postgres: one on PATH, else Debian's newest version; undefined if none. */
export function postgresBinDir(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).find((dir) => dir && hasServer(dir));
  if (onPath) return onPath;
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => join(DEBIAN_ROOT, version, 'bin')).find(hasServer);
}

export async function postgresVersion(binDir: string): Promise<string | undefined> {
  const result = await run(join(binDir, 'postgres'), ['--version']);
  return /(\d+(?:\.\d+)*)/.exec(result.stdout)?.[1];
}

const asRoot = () => process.getuid?.() === 0;

/** `command args`, run as the server's user when we are root (setpriv, from util-linux, execs in place). */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (!asRoot()) return [command, args];
  return ['setpriv', [`--reuid=${SERVER_USER}`, `--regid=${SERVER_USER}`, '--init-groups', '--', command, ...args]];
}

async function serverUserIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = [await run('id', ['-u', SERVER_USER]), await run('id', ['-g', SERVER_USER])];
  if (uid.code !== 0 || gid.code !== 0) {
    throw new ScriptError(
      `PostgreSQL refuses to run as root and there is no \`${SERVER_USER}\` user to run it as: install Debian's postgresql package (it creates the user), or run the tests as another user.`,
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Where a client on this machine finds a cluster: its binaries (psql), its socket folder and port. */
export interface PostgresTarget {
  binDir: string;
  socketDir: string;
  port: number;
}

/**
 * Runs statements over the socket as `postgres`, each in its own transaction, and returns the rows of
 * the last, each a list of its columns as text; fails with psql's message.
 */
export async function psql(target: PostgresTarget, database: string, ...statements: string[]): Promise<string[][]> {
  const command = isExecutable(join(target.binDir, 'psql')) ? join(target.binDir, 'psql') : 'psql';
  const connection = ['-h', target.socketDir, '-p', String(target.port), '-U', 'postgres', '-d', database];
  const args = [...connection, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1'];
  const { stdout } = await mustRun(command, [...args, ...statements.flatMap((sql) => ['-c', sql])]);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

export class PostgresCluster {
  /** Data, socket and log; owned by the server's user, 0700. */
  readonly dir = mkdtempSync(join(tmpdir(), 'dapr-orders-pg-'));
  /** For TCP clients (daprd); the socket needs none. */
  private readonly password = randomBytes(18).toString('hex');
  private server: Service | undefined;
  port = 0;

  constructor(
    private readonly binDir: string,
    /** Keep the folder (data and log) after stop, for a failing run. */
    private readonly keep = false,
  ) {}

  /** What daprd's `connectionString` gets: TCP on the loopback, as a remote server would be reached. */
  get connectionString(): string {
    return `host=127.0.0.1 port=${this.port} user=postgres password=${this.password} dbname=${POSTGRES_DATABASE} sslmode=disable`;
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  /** Last resort when the test process goes away without stopping us. */
  private readonly killAndRemove = () => {
    if (this.server?.pid) signalGroup(this.server.pid, 'SIGKILL');
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
  };

  async start(): Promise<void> {
    process.once('exit', this.killAndRemove);
    if (asRoot()) {
      const { uid, gid } = await serverUserIds();
      chownSync(this.dir, uid, gid);
    }
    const data = join(this.dir, 'data');
    const initdb = asServerUser(join(this.binDir, 'initdb'), [
      ...['-D', data, '--username=postgres', '--encoding=UTF8', '--locale=C'],
      ...['--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--no-instructions'],
    ]);
    await mustRun(...initdb, { cwd: this.dir });
    // A free port can be taken between our look and the server's bind (other stacks start here too).
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startServer(data);
        break;
      } catch (error) {
        await this.server?.stop(2_000);
        if (attempt >= 3) throw error;
      }
    }
    await psql(
      this.target,
      'postgres',
      `ALTER ROLE postgres PASSWORD '${this.password}'`,
      `CREATE DATABASE ${POSTGRES_DATABASE}`,
    );
  }

  private async startServer(data: string): Promise<void> {
    this.port = await freePort();
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.dir,
      // Throwaway: speed over durability.
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
    };
    const args = ['-D', data, '-p', String(this.port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    this.server = new Service('postgres', ...asServerUser(join(this.binDir, 'postgres'), args), this.logFile, {
      cwd: this.dir,
    });
    const ready = join(this.binDir, 'pg_isready');
    await waitFor(
      'postgres',
      async () => (await run(ready, ['-q', '-h', this.dir, '-p', String(this.port)])).code === 0,
      { timeoutMs: 30_000, alive: this.server.exitReason },
    );
  }

  /** Where psql finds the server, also from another process (a test worker). */
  get target(): PostgresTarget {
    return { binDir: this.binDir, socketDir: this.dir, port: this.port };
  }

  async stop(): Promise<void> {
    // SIGTERM to the group ends the sessions and then the server; SIGKILL after the grace period.
    await this.server?.stop(10_000);
    process.off('exit', this.killAndRemove);
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}
