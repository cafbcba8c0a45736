// Lets a test kill and start again a process of the shared stack. The stack lives in vitest's main process
// (globalSetup) and the tests in workers, so globalSetup serves its TestStack on a loopback port of its
// own. The integration files take turns: a file that kills something starts it again before it ends.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { inject } from 'vitest';
import type { TestStack } from '../../scripts/lib/stack.ts';

export type Part = 'app' | 'daprd';
type Action = 'kill' | 'start';
const PATH = /^\/([a-z]+)\/(app|daprd)\/(kill|start)$/;

/** Serves `POST /<appId>/<part>/<kill|start>` for the stack; resolves to its base URL and a way to close it. */
export async function serveStackControl(stack: TestStack): Promise<{ url: string; close: () => void }> {
  const server = createServer(async (request, response) => {
    const [, appId = '', part, action] = PATH.exec(request.url ?? '') ?? [];
    if (request.method !== 'POST' || !part) return response.writeHead(404).end();
    try {
      const env = JSON.parse((await text(request)) || '{}') as Record<string, string>;
      if (action === 'kill') stack.kill(appId, part as Part);
      else if (part === 'daprd') await stack.startDaprd(appId);
      else await stack.startProcess(appId, 0, env);
      response.writeHead(204).end();
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/**
 * From a test: kills a process of the stack (SIGKILL), or starts it again and waits until it answers. `env`
 * adds to (or overrides) the app's environment for this start; the next start without it drops it.
 */
export async function control(appId: string, part: Part, action: Action, env?: Record<string, string>): Promise<void> {
  const body = env ? JSON.stringify(env) : undefined;
  const response = await fetch(`${inject('stackControl')}/${appId}/${part}/${action}`, { method: 'POST', body });
  if (response.status !== 204) throw new Error(`${action} ${appId}'s ${part}: ${await response.text()}`);
}
