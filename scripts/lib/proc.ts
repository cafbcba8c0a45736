// Process and network helpers shared by the bootstrap, `npm start` and the integration tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScriptError } from './ui.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and captures its output; never throws for a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', (error) => resolve({ code: 127, stdout, stderr: stderr + error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Like `run`, but a failure stops the script with the command's last lines of output. */
export async function mustRun(command: string, args: string[], options: Parameters<typeof run>[2] = {}) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new ScriptError(`\`${command} ${args.join(' ')}\` failed (exit ${result.code}):\n${tail}`);
  }
  return result;
}

/** The absolute path of an executable on PATH, like `which`. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on the port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True when a Redis server answers PING on the port. */
export function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^\+PONG|^-NOAUTH/.test(data.toString())));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** True when GET url answers with a 2xx status within a second. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Polls `check` until it holds; stops with a message naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; alive?: () => string | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (await check()) return;
    const died = options.alive?.();
    if (died) throw new ScriptError(`${what}: ${died}`);
    await sleep(options.intervalMs ?? 200);
  }
  throw new ScriptError(`${what} did not become ready within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`);
}

/** How much of a service's latest output it keeps in memory. */
const TAIL_CHARS = 8192;

/**
 * A long-running process started by us, in its own process group (so a terminal's Ctrl+C reaches only
 * the script that owns it, and stopping it also stops whatever it spawned). Output goes to a log file.
 */
export class Service {
  readonly child: ChildProcess;
  exited = false;
  exitCode: number | null = null;
  /** The end of its output, to say why it died even once its log file is gone. */
  private tail = '';

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Two sources, one file: neither may end it, the process's close does.
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    const keepTail = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    this.child.stdout?.on('data', keepTail);
    this.child.stderr?.on('data', keepTail);
    this.child.on('close', () => log.end());
    this.child.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
    });
    this.child.on('error', () => {
      this.exited = true;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The end of its output so far (a few KiB). */
  recentOutput(): string {
    return this.tail;
  }

  /** A reason when the process is gone, for `waitFor(..., { alive })`. */
  exitReason = (): string | undefined => {
    if (!this.exited) return undefined;
    const last = this.tail.trimEnd().split('\n').slice(-3).join('\n  ');
    return `${this.name} exited (code ${this.exitCode}); see ${this.logFile}${last ? `; its last lines:\n  ${last}` : ''}`;
  };

  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => this.child.pid && signalGroup(this.child.pid, 'SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
    // Whatever the leader left behind in its group goes too.
    signalGroup(this.child.pid, 'SIGKILL');
  }

  /** SIGKILL, now: for chaos tests and for cleaning up after a failure. */
  kill(): void {
    if (this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ports freePort handed out in this process: it never hands one out twice. */
const handedOut = new Set<number>();

/**
 * A loopback port nobody listens on right now, and not one this process handed out before. Without that
 * second rule a stack's forty-odd ports would sometimes include one twice: the kernel picks them at random
 * (500 picks repeated 27), so a port came twice in about one stack start in ten, and the second process to
 * bind it exited.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await anyFreePort();
    if (!handedOut.has(port) || attempt >= 100) {
      handedOut.add(port);
      return port;
    }
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
