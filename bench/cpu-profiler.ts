/**
 * @module A CPU profiler to preload into the deployment's processes (`--cpu-prof` is not
 * allowed in NODE_OPTIONS, `--import` is): `npm run bench -- --cpu-prof DIR` sets
 * NODE_OPTIONS=--import=<this file> and MRAA_BENCH_CPU_PROF_DIR=DIR, and every process
 * of the deployment writes DIR/<role>-<pid>.cpuprofile when it exits (open it in
 * Chrome DevTools, or summarise it with `node dist/bench/profile-summary.js FILE`).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.MRAA_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', {
    interval: Number(process.env.MRAA_BENCH_CPU_PROF_INTERVAL_US ?? 200),
  });
  session.post('Profiler.start');
  const regionAt = process.argv.indexOf('--region');
  const role = regionAt >= 0 ? process.argv[regionAt + 1] : (process.argv[2] ?? 'node');
  // An in-process inspector session answers synchronously, so this works in 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
