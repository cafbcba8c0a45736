// One live connection's outgoing events, with a bound on what may wait for a client that does not read.
//
// Events are written to the socket at once, in order, without waiting for it to drain: the socket's own
// buffer is the stream's only queue, and its size is known (`writableLength`, in bytes). A client that
// falls behind by more than `maxBuffered` bytes of live events is dropped (its socket destroyed, which
// frees the buffer); its browser's EventSource reconnects with Last-Event-ID and catches up from the
// read model, so it loses nothing but the bytes it was not reading anyway. (@fastify/sse's own `send`
// waits for 'drain' per event, so a stalled client would instead pile up events, and listeners, in memory.)
import type { ServerResponse } from 'node:http';
import type { SSEReplyInterface } from '@fastify/sse';
import type { FastifyBaseLogger } from 'fastify';

export interface SSEFrame {
  id: string;
  event: string;
  data: unknown;
  /** Milliseconds the browser waits before it reconnects. */
  retry?: number;
}

/** An event in the text/event-stream format. JSON.stringify leaves no line break in `data`. */
export function formatFrame({ id, event, data, retry }: SSEFrame): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n${retry ? `retry: ${retry}\n` : ''}\n`;
}

const frames = new WeakMap<object, string>();

/**
 * The frame of `source` (a notification, a snapshot), formatted once however many streams it goes to: a
 * snapshot is a few hundred KB, and a notification goes to every open connection.
 */
export function sharedFrame<T extends object>(source: T, frame: (source: T) => SSEFrame): string {
  let text = frames.get(source);
  if (text === undefined) {
    text = formatFrame(frame(source));
    frames.set(source, text);
  }
  return text;
}

export class LiveStream {
  private ended = false;
  private readonly endCallbacks: (() => void)[] = [];
  /** Bytes the socket may hold: the catchup (which may be large, and is sent once) plus `maxBuffered`. */
  private limit: number;

  constructor(
    private readonly sse: SSEReplyInterface,
    private readonly raw: ServerResponse,
    private readonly log: FastifyBaseLogger,
    private readonly maxBuffered: number,
  ) {
    this.limit = maxBuffered;
    // 'close' comes when the response ends or the socket goes, whichever way; a socket that went before
    // this stream existed has no 'close' to come.
    raw.once('close', () => this.end());
    if (raw.destroyed) this.end();
  }

  /** Called once when the connection ends, however (at once if it has ended already). */
  onEnd(callback: () => void): void {
    if (this.ended) callback();
    else this.endCallbacks.push(callback);
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** The first event: what the client missed, however large; the bound counts the live events after it. */
  sendCatchup(frame: string): boolean {
    this.limit = Buffer.byteLength(frame) + this.maxBuffered;
    return this.send(frame);
  }

  /** Writes one event; false when the stream is gone, or was dropped because its client fell behind. */
  send(frame: string): boolean {
    if (this.ended || !this.sse.isConnected) return false;
    this.sse.sendHeaders();
    this.raw.write(frame);
    const buffered = this.raw.writableLength;
    if (buffered > this.limit) {
      this.log.warn(
        { buffered, limit: this.limit },
        'a live client fell behind; dropped it (it reconnects and catches up)',
      );
      this.raw.destroy();
      this.end();
      return false;
    }
    return true;
  }

  /**
   * Ends the stream (the service stops). An ended response leaves its connection idle, which Fastify's
   * close destroys, also when the client is not reading.
   */
  close(): void {
    this.sse.close();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const callback of this.endCallbacks.splice(0)) callback();
  }
}
