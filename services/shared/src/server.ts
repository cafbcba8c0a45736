// How every service listens and stops: on SIGTERM/SIGINT it stops taking new work, lets in-flight
// requests finish and runs the app's onClose hooks, within 10 s (close-with-grace does the signal work),
// then sends the spans it still holds.
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { flushTraces } from './tracing.ts';

export async function listenUntilSignalled(
  app: FastifyInstance,
  address: { host: string; port: number },
): Promise<void> {
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'stopping after an uncaught error');
    else app.log.info({ signal }, 'stopping');
    await app.close();
    await flushTraces();
  });
  await app.listen(address);
}
