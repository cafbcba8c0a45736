// What the Dapr CLI's multi-app run says when one of its apps exits during start-up: its own lines are
// prefixed "== APP - <app id> ==", then the CLI says "The App process exited with error code". npm start
// stops at once with that app's own error instead of waiting for it to become ready.

/** The app that exited and its last lines (its error first), or undefined while none did. */
export function exitedApp(output: string): { appId: string; lines: string[] } | undefined {
  const lines = output.split('\n');
  const exited = lines.findIndex((line) => line.includes('The App process exited with error code'));
  if (exited < 0) return undefined;
  const before = lines.slice(0, exited);
  const last = [...before].reverse().find((line) => line.startsWith('== APP - '));
  const appId = /^== APP - (\S+) ==/.exec(last ?? '')?.[1];
  if (!appId) return undefined;
  const own = before
    .filter((line) => line.startsWith(`== APP - ${appId} ==`))
    .map((line) => line.slice(`== APP - ${appId} ==`.length).trim())
    .filter(Boolean);
  const thrown = own.findIndex((line) => /^\w*Error: /.test(line));
  const error = thrown >= 0 ? thrown : own.findIndex((line) => /error/i.test(line) && !line.startsWith('at '));
  return { appId, lines: error >= 0 ? own.slice(error, error + 3) : own.slice(-3) };
}
