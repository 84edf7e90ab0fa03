import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql module for everyone: type-graphql, Apollo and graphql-ws must share its classes.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    pool: 'forks',
    // Generous: the suite must pass on two cores shared with other work (waits are on events, not sleeps).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file gets its own database, so files run side by side.
    fileParallelism: true,
  },
});
