import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ServiceApp } from '#shared/http.ts';
import { Notification, OrderId } from '#shared/messages.ts';
import type { Feed } from './feed.ts';

const publicDir = new URL('../public/', import.meta.url);
const asset = (name: string) => readFileSync(new URL(name, publicDir), 'utf8');

/** Dapr delivers each message as a CloudEvent; our notification is its `data`. */
const CloudEvent = z.object({ data: z.unknown() }).loose();

export function registerRoutes(app: ServiceApp, feed: Feed): void {
  const page = { html: asset('index.html'), script: asset('app.js'), style: asset('style.css') };

  app.addContentTypeParser('application/cloudevents+json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });

  // The subscription (components/subscription.yaml). A message that is not a notification is dropped,
  // not retried: no redelivery would make it valid.
  app.post('/notifications', { schema: { body: CloudEvent } }, async (request) => {
    const parsed = Notification.safeParse(request.body.data);
    if (!parsed.success) {
      request.log.warn({ issues: parsed.error.issues }, 'dropping a message that is not a notification');
      return { status: 'DROP' };
    }
    const added = feed.add(parsed.data);
    if (!added) request.log.info({ id: parsed.data.id }, 'redelivered notification ignored');
    return { status: 'SUCCESS' };
  });

  app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(page.html));
  app.get('/app.js', (_request, reply) => reply.type('text/javascript; charset=utf-8').send(page.script));
  app.get('/style.css', (_request, reply) => reply.type('text/css; charset=utf-8').send(page.style));

  app.get('/api/notifications', async () => ({ notifications: feed.since(undefined) }));
  app.get('/api/orders/:orderId/timeline', { schema: { params: z.object({ orderId: OrderId }) } }, async (request) => ({
    orderId: request.params.orderId,
    events: feed.forOrder(request.params.orderId),
  }));

  // Live updates. On (re)connect the browser sends Last-Event-ID and gets what it missed first.
  app.get('/events', { sse: 'only' }, async (request, reply) => {
    const sse = reply.sse;
    const send = (event: Notification) => sse.send({ id: event.id, event: 'notification', data: event });
    for (const event of feed.since(sse.lastEventId ?? (request.query as { after?: string }).after)) {
      await send(event);
    }
    sse.keepAlive();
    const unsubscribe = feed.subscribe((event) => {
      send(event).catch(() => unsubscribe());
    });
    sse.onClose(unsubscribe);
  });
}
