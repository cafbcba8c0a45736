import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, Service } from './proc.ts';

describe('freePort', () => {
  it('never hands out the same port twice, although the kernel picks each one at random', async () => {
    // 500 picks from the ports the kernel hands to bind(0) repeat some almost surely (27 of 500, once).
    const ports: number[] = [];
    for (let n = 0; n < 500; n++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('hands out a port that can be listened on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('Service', () => {
  it('says why it died: its exit code and its last lines of output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-test-'));
    try {
      const script = [
        "console.log('starting')",
        "console.error('listen tcp 127.0.0.1:1: bind: address already in use')",
        'process.exit(3)',
      ].join(';');
      const service = new Service('demo', process.execPath, ['-e', script], join(dir, 'demo.log'));
      await new Promise<void>((resolve) => service.child.once('close', () => resolve()));
      expect(service.exitReason()).toMatch(/^demo exited \(code 3\); see .*demo\.log; its last lines:\n/);
      expect(service.exitReason()).toContain('address already in use');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
