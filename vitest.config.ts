import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-process tests bind UDP ports and spawn daemons: keep files from stepping on each other.
    fileParallelism: false,
    reporters: ['default'],
  },
});
