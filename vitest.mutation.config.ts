import { defineConfig } from 'vitest/config';

/**
 * The fast tests that exercise src/core, for mutation testing (stryker.config.json): the core's own
 * table tests and golden traces, and the unit tests of the detector, guard and membership. The slow
 * process and simulation suites are left out so that a run stays feasible on a small machine.
 */
export default defineConfig({
  test: {
    include: ['test/core/**/*.test.ts', 'test/unit/detector.test.ts', 'test/unit/guard.test.ts', 'test/unit/membership.test.ts'],
    testTimeout: 60_000,
    reporters: ['default'],
  },
});
