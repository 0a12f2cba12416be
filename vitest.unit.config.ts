/**
 * @module `npm run test:unit`: the inner loop. Pure tests beside the code and the
 * region API tests (regions started in this process): no build, no child process.
 * Left to `npm test`: test/conformance (kills a writer process mid-put; starts etcd),
 * test/region/etcd-regions (starts etcd), test/simulation (thousands of seeded runs),
 * test/scenarios (real `mraa` processes) and test/e2e (the built web app in Chromium).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/region/**/*.test.ts'],
    exclude: [...(base.test?.exclude ?? []), 'test/region/etcd-regions.test.ts', 'node_modules/**'],
  },
});
