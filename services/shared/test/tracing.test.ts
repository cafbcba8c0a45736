import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import {
  PresetSpanIds,
  sidecarCallName,
  spanIds,
  toTraceparent,
  tracingDisabled,
  withErrorMessage,
} from '../src/tracing.ts';

describe('sidecarCallName', () => {
  it.each([
    ['POST', '/v1.0/invoke/inventory/method/reserve', 'invoke inventory/reserve'],
    ['GET', '/v1.0/invoke/payments/method/payments/order_sam_abcde', 'invoke payments/payments/order_sam_abcde'],
    ['POST', '/v1.0/publish/orders/notifications', 'publish notifications'],
    ['GET', '/v1.0/state/statestore/reservation:order_sam_abcde', 'state GET'],
    ['POST', '/v1.0/state/statestore', 'state POST'],
    ['GET', '/v1.0/healthz/outbound', 'healthz GET'],
    ['GET', '/elsewhere?x=1', 'GET'],
  ])('%s %s is "%s"', (method, path, name) => {
    expect(sidecarCallName(method, path)).toBe(name);
  });
});

describe('PresetSpanIds', () => {
  it('gives the span started inside withSpanId the preset id, and random ones before and after', () => {
    const ids = new PresetSpanIds();
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    const [inside, next] = ids.withSpanId('b7ad6b7169203331', () => [ids.generateSpanId(), ids.generateSpanId()]);
    expect(inside).toBe('b7ad6b7169203331');
    expect(next).not.toBe('b7ad6b7169203331');
    expect(ids.generateSpanId()).not.toBe('b7ad6b7169203331');
    expect(ids.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    const many = Array.from({ length: 10_000 }, () => ids.generateSpanId());
    expect(new Set(many).size).toBe(many.length);
    expect(many.every((id) => /^[0-9a-f]{16}$/.test(id) && !/^0+$/.test(id))).toBe(true);
  });

  it('is one per process, also when the module is loaded twice (instrument.js and a service bundle each hold a copy)', async () => {
    const copy = '../src/tracing.ts?second-copy';
    const second = (await import(/* @vite-ignore */ copy)) as typeof import('../src/tracing.ts');
    expect(second.PresetSpanIds).not.toBe(PresetSpanIds);
    expect(second.spanIds).toBe(spanIds);
    expect(second.spanIds.withSpanId('b7ad6b7169203331', () => spanIds.generateSpanId())).toBe('b7ad6b7169203331');
  });

  it('forgets the preset id when the start throws', () => {
    const ids = new PresetSpanIds();
    expect(() =>
      ids.withSpanId('b7ad6b7169203331', () => {
        throw new Error('no span');
      }),
    ).toThrow();
    expect(ids.generateSpanId()).not.toBe('b7ad6b7169203331');
  });
});

describe('withErrorMessage', () => {
  const span = (status: ReadableSpan['status'], attributes = {}) => ({ status, attributes }) as unknown as ReadableSpan;

  it('gives a failed span without a message its HTTP status as message, keeping the rest', () => {
    const failed = span({ code: SpanStatusCode.ERROR }, { 'http.response.status_code': 503 });
    const tagged = withErrorMessage(failed);
    expect(tagged.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });
    expect(tagged.attributes).toBe(failed.attributes);
    expect(withErrorMessage(span({ code: SpanStatusCode.ERROR })).status.message).toBe('failed');
  });

  it('leaves spans that succeeded, or that say why they failed, as they are', () => {
    const ok = span({ code: SpanStatusCode.UNSET });
    expect(withErrorMessage(ok)).toBe(ok);
    const explained = span({ code: SpanStatusCode.ERROR, message: 'shipping failed' });
    expect(withErrorMessage(explained)).toBe(explained);
  });
});

it('writes traceparent headers and reads the standard switch', () => {
  const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
  expect(toTraceparent(context)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  expect(tracingDisabled({ OTEL_SDK_DISABLED: 'true' })).toBe(true);
  expect(tracingDisabled({ OTEL_SDK_DISABLED: 'TRUE ' })).toBe(true);
  expect(tracingDisabled({ OTEL_SDK_DISABLED: 'false' })).toBe(false);
  expect(tracingDisabled({})).toBe(false);
});
