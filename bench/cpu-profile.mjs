// Preloaded into an app by `npm run bench -- --cpu-prof <dir>` (NODE_OPTIONS=--import <this file>; Node
// refuses --cpu-prof itself in NODE_OPTIONS): records a V8 CPU profile of the whole process life and
// writes it to $BENCH_CPU_PROF_DIR/<name>.cpuprofile when the process exits (open it in Chrome DevTools or
// speedscope). Plain JavaScript: it loads before tsx.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const name = `${process.env.BENCH_CPU_PROF_NAME ?? 'app'}.${process.pid}.cpuprofile`;
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // A session in the same thread answers synchronously, so this still runs within 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), JSON.stringify(result.profile));
    });
  });
}
