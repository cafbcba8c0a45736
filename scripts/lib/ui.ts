// Console output of the project's scripts: one line per step, elapsed time on long ones, and errors a
// person can act on (a `ScriptError` is printed as its message alone, without a stack trace).
import prettyMs from 'pretty-ms';

export class ScriptError extends Error {}

const started = Date.now();

/** "412ms", "12.3s", "2m 5.3s". */
export function formatDuration(ms: number): string {
  return prettyMs(ms);
}

export function info(message: string): void {
  process.stdout.write(`${message}\n`);
}

export function warn(message: string): void {
  process.stdout.write(`! ${message}\n`);
}

/**
 * Runs one step and prints its outcome with the time it took. A step that runs longer than
 * `tickSeconds` prints a progress line every `tickSeconds`, so a 5-minute build never looks hung.
 */
export async function step<T>(
  title: string,
  work: () => Promise<T>,
  /** Whether what `work` resolved with is a success (a check that answers instead of throwing). */
  succeeded: (result: T) => boolean = () => true,
  tickSeconds = 20,
): Promise<T> {
  const begin = Date.now();
  info(`▸ ${title}…`);
  const ticker = setInterval(
    () => info(`  … ${title}: ${formatDuration(Date.now() - begin)} so far`),
    tickSeconds * 1000,
  );
  try {
    const result = await work();
    info(`${succeeded(result) ? '✓' : '✗'} ${title} (${formatDuration(Date.now() - begin)})`);
    return result;
  } catch (error) {
    info(`✗ ${title} (${formatDuration(Date.now() - begin)})`);
    throw error;
  } finally {
    clearInterval(ticker);
  }
}

/** The top level of every script: a `ScriptError` becomes one clear sentence and exit code 1. */
export function main(run: () => Promise<void>): void {
  run().then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof ScriptError) process.stderr.write(`✗ ${error.message}\n`);
      else process.stderr.write(`✗ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

export function sinceStart(): string {
  return formatDuration(Date.now() - started);
}
