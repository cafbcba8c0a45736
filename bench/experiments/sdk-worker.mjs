// An experiment, not a fix: preloaded into an app, it changes two things of @dapr/dapr 3.18's workflow
// worker that no option reaches, to measure what they cost. Without its variables it changes nothing.
//   BENCH_SDK_MAX_WORK_ITEMS=N  work items run at once (the SDK hard-codes 10, and queues 100 more,
//                               dropping any beyond that)
//   BENCH_SDK_QUIET=1           no INFO lines from the SDK (it prints one per work item with console.info,
//                               whatever logger the app passes)
// npm run bench -- --app-env orderprocessing:NODE_OPTIONS=--import=$PWD/bench/experiments/sdk-worker.mjs \
//                  --app-env orderprocessing:BENCH_SDK_MAX_WORK_ITEMS=100 --app-env orderprocessing:BENCH_SDK_QUIET=1
import { createRequire } from 'node:module';

const require = createRequire(`${process.cwd()}/`);
const { TaskHubGrpcWorker } = require('@dapr/dapr/workflow/internal/durabletask/worker/task-hub-grpc-worker.js');
const { Logger } = require('@dapr/dapr/logger/Logger.js');

const max = Number(process.env.BENCH_SDK_MAX_WORK_ITEMS ?? 0);
if (max > 0) {
  const start = TaskHubGrpcWorker.prototype.start;
  TaskHubGrpcWorker.prototype.start = function patchedStart(...args) {
    this._maxConcurrentWorkItems = max;
    this._maxQueueSize = Math.max(this._maxQueueSize, max * 10);
    return start.apply(this, args);
  };
}
if (process.env.BENCH_SDK_QUIET === '1') {
  Logger.prototype.info = () => undefined;
}
