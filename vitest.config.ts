import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A fixed fast-check seed unless FUZZ_SEED says otherwise (test/helpers/fuzz-seed.ts).
    setupFiles: ['test/helpers/fuzz-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-process tests bind UDP ports and spawn daemons: keep files from stepping on each other.
    fileParallelism: false,
    reporters: ['default'],
  },
});
