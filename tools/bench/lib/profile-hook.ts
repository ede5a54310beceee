/**
 * Preloaded (`-r`) into a service process the benchmark profiles: the first
 * SIGWINCH starts V8's sampling CPU profiler, the second stops it and writes
 * the profile (Chrome .cpuprofile JSON) to $BENCH_CPU_PROFILE. Nothing is
 * sampled before the first signal, so start-up and warm-up stay out of it.
 * (Not SIGUSR2: NestJS's enableShutdownHooks() shuts the service down on it.)
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const output = process.env.BENCH_CPU_PROFILE;
if (output) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGWINCH', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
          session.post('Profiler.start'),
        ),
      );
      return;
    }
    session.post('Profiler.stop', (error, result) => {
      if (!error) {
        // Written whole, then renamed: a reader never sees half a file.
        writeFileSync(`${output}.tmp`, JSON.stringify(result.profile));
        renameSync(`${output}.tmp`, output);
      }
      running = false;
    });
  });
}
