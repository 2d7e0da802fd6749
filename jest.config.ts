import type { Config } from 'jest';

const project = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  // Sources import siblings as `./x.js` (required by Node ESM); map back to the .ts file.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Examples import the package by name, as users do; in tests that name means the sources.
    // Every entry of scripts/entries.mjs follows this layout (spec/package/entries.spec.ts checks).
    '^dflockd-rx$': '<rootDir>/lib/index.ts',
    '^dflockd-rx/([a-z][a-z0-9-]*)$': '<rootDir>/lib/$1/index.ts',
  },
} satisfies Config;

const config: Config = {
  projects: [
    // Everything, against the test server's default mode: dflockd 2.1.
    { ...project, displayName: 'dflockd 2.1' },
    // The client suites once more against dflockd v1.10.0 (the same specs, parameterised by the
    // server fixture through DFLOCKD_TEST_COMPAT, not copied).
    {
      ...project,
      displayName: 'dflockd 1.10',
      testMatch: ['<rootDir>/spec/{client,facade,lease,reliability}/**/*.spec.ts'],
      setupFiles: ['<rootDir>/spec/helpers/compat-1.10.ts'],
    },
  ],
  testTimeout: 20_000,
  // Real sockets and short real-time leases: two workers fit the 2-core machines we run on.
  maxWorkers: 2,
};

export default config;
