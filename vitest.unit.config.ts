/**
 * @module `npm run test:unit`: the inner loop. Pure tests beside the code and the
 * region API tests (regions started in this process): no build, no child process.
 * Left to `npm test`: test/conformance (kills a writer process mid-put),
 * test/scenarios (real `mraa` processes) and test/e2e (the built web app in Chromium).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/region/**/*.test.ts'],
  },
});
