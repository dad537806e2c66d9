import { defineConfig } from 'vitest/config';

/**
 * `npm run test:real-size`: the tests over the real-size checkpoints (scripts/make-real-size-checkpoints.ts,
 * git-ignored, gigabytes), kept out of `npm test`. Files run one at a time: each holds a model of
 * up to a gigabyte and more in memory. A model whose checkpoint is missing is skipped.
 */
export default defineConfig({
  test: {
    include: ['tests/real-size/**/*.real-size.ts'],
    environment: 'node',
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
