// The workflow engine, as `app.engine`: the Dapr workflow client (a gateway the order service calls) and
// this app's worker, which runs the order workflows and their activities. The worker starts once the app
// listens and stops when it closes. Tests hand in a gateway of their own, and then no worker runs.
import fp from 'fastify-plugin';
import type { DaprHttpClient } from '#shared/dapr.ts';
import { DaprWorkflowClient, LogLevel, routeSdkConsoleLogs, WorkflowRuntime, widenWorker } from '#shared/daprSdk.ts';
import { sdkLogger, waitForSidecar } from '#shared/sidecar.ts';
import type { OrderConfig } from '../config.ts';
import { DaprWorkflowGateway, type WorkflowGateway } from '../engine.ts';
import { createActivities } from '../workflow/activities.ts';
import { traceActivity, traceContextInterceptor, traceWorkflow, unsampledInterceptor } from '../workflow/tracing.ts';
import { LATEST_VERSION, versionNumbered, WORKFLOW_VERSIONS, workflowOf } from '../workflow/versions.ts';
import { SupervisedWorker } from '../workflow/worker.ts';

declare module 'fastify' {
  interface FastifyInstance {
    engine: WorkflowGateway;
  }
}

export interface EnginePluginOptions {
  config: OrderConfig;
  sidecar: DaprHttpClient;
  /** An engine of the test's own: no Dapr client and no worker then. */
  gateway?: WorkflowGateway | undefined;
}

export default fp<EnginePluginOptions>(
  async (app, { config, sidecar, gateway }) => {
    if (gateway) {
      app.decorate('engine', gateway);
      return;
    }
    const grpc = {
      daprHost: config.DAPR_HOST,
      daprPort: String(config.DAPR_GRPC_PORT),
      daprApiToken: config.DAPR_API_TOKEN,
    };
    const logger = { level: LogLevel.Warn, service: sdkLogger(app.log) };
    routeSdkConsoleLogs(logger.service);
    // The client's calls (schedule, raise event) carry the request's traceparent, so the sidecar's spans for
    // them, and for the workflow it runs, join the request's trace; the worker's calls are not traced.
    const client = new DaprWorkflowClient({
      ...grpc,
      logger,
      grpcOptions: { interceptors: [traceContextInterceptor] },
    });
    const latest = versionNumbered(config.ORDER_WORKFLOW_VERSION ?? LATEST_VERSION);
    app.decorate('engine', new DaprWorkflowGateway(client, latest));

    const runtime = new WorkflowRuntime({ ...grpc, logger, grpcOptions: { interceptors: [unsampledInterceptor] } });
    // Every version, so that each order in flight goes on with the one it started on. Their spans share
    // the story's name (the sidecar's own, orchestration||<name>, tells the version).
    for (const version of WORKFLOW_VERSIONS) {
      runtime.registerWorkflowWithName(version.name, traceWorkflow('orderWorkflow', workflowOf(version)));
    }
    for (const [name, activity] of Object.entries(createActivities({ dapr: sidecar }))) {
      runtime.registerActivityWithName(name, traceActivity(name, activity));
    }
    if (!widenWorker(runtime, config.WORKFLOW_CONCURRENCY)) {
      app.log.warn('could not raise the workflow worker concurrency: the SDK changed; it stays at its default');
    }
    const worker = new SupervisedWorker(
      runtime,
      () => waitForSidecar(config.DAPR_HOST, config.DAPR_HTTP_PORT),
      app.log,
    );
    app.addHook('onListen', () => worker.start());
    app.addHook('onClose', async () => {
      await worker.stop();
      await client.stop().catch(() => undefined);
    });
  },
  { name: 'workflow-engine' },
);
