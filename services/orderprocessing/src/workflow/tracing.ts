// One trace per order, from POST /orders to the end of its workflow, written replay-safely. The engine
// passes no trace context to workflows and activities, so the order's input carries its own, and each
// activity's input an envelope with its parent: docs/architecture.md, "One trace per order".

import type { Task, WorkflowActivityContext, WorkflowContext } from '@dapr/dapr';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { z } from 'zod';
import { sampledSpanContext, spanIds, TRACEPARENT, toTraceparent, unsampledTraceparent } from '#shared/tracing.ts';

const tracer = trace.getTracer('orderprocessing.workflow');

/** What an order's workflow input carries of its trace. */
export const WorkflowTrace = z.object({
  /** The request that placed the order: the workflow span's parent. */
  traceparent: z.string().regex(TRACEPARENT),
  /** The workflow span's id, chosen when the order is placed, so that activities can name it as parent. */
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
});
export type WorkflowTrace = z.infer<typeof WorkflowTrace>;

/** An activity's input as the traced workflow schedules it. */
const TracedActivityInput = z.strictObject({ traceparent: z.string().regex(TRACEPARENT), input: z.unknown() });

/** The trace for an order placed now, from the request's span; undefined when it is not traced. */
export function newWorkflowTrace(): WorkflowTrace | undefined {
  const request = sampledSpanContext();
  if (!request) return undefined;
  return { traceparent: toTraceparent(request), spanId: spanIds.generateSpanId() };
}

/** The trace id of an order's trace (as its workflow input holds it), for GET /orders/:id. */
export function traceIdOf(workflowTrace: unknown): string | undefined {
  const parsed = WorkflowTrace.safeParse(workflowTrace);
  return parsed.success ? TRACEPARENT.exec(parsed.data.traceparent)?.[1] : undefined;
}

/** The `traceparent` of the workflow span itself: the parent of its activities and stages. */
function workflowTraceparent(workflowTrace: WorkflowTrace): string {
  const [version, traceId, , flags] = workflowTrace.traceparent.split('-');
  return `${version}-${traceId}-${workflowTrace.spanId}-${flags}`;
}

const contextOf = (traceparent: string): Context => propagation.extract(ROOT_CONTEXT, { traceparent });

function fail(span: Span, error: unknown): void {
  const message = (error as { details?: { message?: string } }).details?.message ?? (error as Error)?.message;
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(message) });
  if (error instanceof Error) span.recordException(error);
}

interface FinishedSpan {
  name: string;
  parent: Context;
  start: Date;
  end: Date;
  attributes?: Attributes;
  error?: unknown;
  /** Its id, when it was chosen in advance. */
  spanId?: string;
}

/** A span that is over already: written in one go with the engine's (replay-safe) times. */
function writeSpan({ name, parent, start, end, attributes, error, spanId }: FinishedSpan): void {
  const begin = () => tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, parent);
  const span = spanId ? spanIds.withSpanId(spanId, begin) : begin();
  if (error !== undefined) fail(span, error);
  span.end(end);
}

type Workflow<I, O> = (ctx: WorkflowContext, input: I) => AsyncGenerator<Task<unknown>, O, unknown>;

/** The workflow, traced when its input carries a trace (see the top of this file). */
export function traceWorkflow<I, O>(name: string, workflow: Workflow<I, O>): Workflow<I, O> {
  return async function* traced(ctx, input) {
    const parsed = WorkflowTrace.safeParse((input as { trace?: unknown } | undefined)?.trace);
    if (!parsed.success) return yield* workflow(ctx, input);

    const workflowTrace = parsed.data;
    const orderId = ctx.getWorkflowInstanceId();
    const started = ctx.getCurrentUtcDateTime();
    const stageParent = contextOf(workflowTraceparent(workflowTrace));
    let stage: { name: string; start: Date } | undefined;
    // Spans are written only by the execution that gets there first; a replay has written them already.
    const endStage = (end: Date) => {
      if (stage && !ctx.isReplaying()) {
        const attributes = { 'order.id': orderId, 'workflow.stage': stage.name };
        writeSpan({ name: `stage ${stage.name}`, parent: stageParent, start: stage.start, end, attributes });
      }
      stage = undefined;
    };
    const end = (outcome: { result?: unknown; error?: unknown }) => {
      const now = ctx.getCurrentUtcDateTime();
      endStage(now);
      if (ctx.isReplaying()) return;
      const result = outcome.result as { success?: unknown; message?: unknown } | undefined;
      const attributes: Attributes = { 'workflow.name': name, 'order.id': orderId };
      if (typeof result?.success === 'boolean') attributes['order.success'] = result.success;
      if (typeof result?.message === 'string') attributes['order.message'] = result.message;
      writeSpan({
        name: `workflow ${name}`,
        parent: contextOf(workflowTrace.traceparent),
        start: started,
        end: now,
        attributes,
        error: outcome.error,
        spanId: workflowTrace.spanId,
      });
    };

    const activityTraceparent = workflowTraceparent(workflowTrace);
    const tracedCtx = new Proxy(ctx, {
      get(target, property) {
        if (property === 'callActivity') {
          return (activity: Parameters<WorkflowContext['callActivity']>[0], activityInput?: unknown) =>
            target.callActivity(activity, { traceparent: activityTraceparent, input: activityInput } as never);
        }
        if (property === 'setCustomStatus') {
          return (status: string) => {
            if (stage?.name !== status) {
              endStage(target.getCurrentUtcDateTime());
              if (status) stage = { name: status, start: target.getCurrentUtcDateTime() };
            }
            target.setCustomStatus(status);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

    try {
      const result = yield* workflow(tracedCtx, input);
      end({ result });
      return result;
    } catch (error) {
      end({ error });
      throw error;
    }
  };
}

/** Runs `work` in a span of its own under the current one (a failure marks it and is rethrown). */
export function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Any activity: the SDK hands it whatever input the workflow scheduled it with. */
type Activity = (ctx: WorkflowActivityContext, input: never) => Promise<unknown>;

/** The activity, in a span under its workflow's when its input came in the trace envelope. */
export function traceActivity(name: string, activity: Activity) {
  return (ctx: WorkflowActivityContext, payload: unknown): Promise<unknown> => {
    const envelope = TracedActivityInput.safeParse(payload);
    if (!envelope.success) return activity(ctx, payload as never);
    const attributes = {
      'order.id': ctx.getWorkflowInstanceId(),
      'workflow.activity.name': name,
      'workflow.activity.task_id': ctx.getWorkflowActivityId(),
    };
    const run = () => inSpan(`activity ${name}`, attributes, () => activity(ctx, envelope.data.input as never));
    return context.with(contextOf(envelope.data.traceparent), run);
  };
}

/**
 * For the workflow worker: its calls to the sidecar (fetching work items, reporting results) belong to no
 * order, and the sidecar would write each as a trace of its own, dozens per order. They say "not sampled"
 * instead (a W3C `traceparent` with flags 00, which daprd's parent-based sampler follows).
 */
export const unsampledInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('traceparent', UNSAMPLED_TRACEPARENT);
      next(metadata, listener);
    },
  });
const UNSAMPLED_TRACEPARENT = unsampledTraceparent(); // loaded outside any span: a trace of its own

/**
 * For the workflow client: each gRPC call to the sidecar carries the caller's `traceparent` (W3C, as
 * daprd reads it from gRPC metadata), so that the sidecar's span for it, e.g. the one that schedules
 * an order's workflow, joins the request's trace.
 */
export const traceContextInterceptor: Interceptor = (options, nextCall) => {
  const caller = context.active();
  return new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      propagation.inject(caller, metadata, { set: (carrier, key, value) => carrier.set(key, value) });
      next(metadata, listener);
    },
  });
};
