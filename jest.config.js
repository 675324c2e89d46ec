// One jest run covers every workspace. `unit` specs live beside the code and
// need nothing running; `integration` tests (test/ folders) run against the
// real local stack, which jest's global setup starts once for the whole run.
const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
// ESM-only packages that jest must transform to CommonJS.
const esmOnly = [
  'jose',
  '@kubernetes/client-node',
  'openid-client',
  'oauth4webapi',
  'jsonpath-plus',
  '@jsep-plugin',
  'jsep',
  'hpagent',
  'isomorphic-ws',
];
const common = {
  transform,
  transformIgnorePatterns: [`node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: {
    '^@ecom/shared$': '<rootDir>/services/shared/src/index.ts',
    '^@ecom/shared/(.*)$': '<rootDir>/services/shared/src/$1',
  },
  testEnvironment: 'node',
  // The local stack's data: the scheduler's etcd writes `*.snap` files, which jest would count as
  // obsolete snapshots and fail the run for.
  modulePathIgnorePatterns: ['<rootDir>/.stack/'],
};
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{services,operator,stack}/**/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{services,stack}/**/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/kind/'],
      globalSetup: '<rootDir>/stack/test/global-setup.ts',
      globalTeardown: '<rootDir>/stack/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/stack/test/integration-setup.ts'],
    },
    {
      ...common,
      displayName: 'cluster',
      testMatch: ['<rootDir>/operator/test/**/*.test.ts'],
      globalSetup: '<rootDir>/operator/test/global-setup.ts',
      globalTeardown: '<rootDir>/operator/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/stack/test/integration-setup.ts'],
    },
    {
      ...common,
      // The shop in a real kind cluster (stack/kind/up.sh builds and installs everything it needs).
      displayName: 'kind',
      testMatch: ['<rootDir>/test/kind/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/stack/test/integration-setup.ts'],
    },
  ],
  // The kind cluster's end-to-end tests run last, after the local stack's.
  testSequencer: '<rootDir>/stack/test/sequencer.js',
  // Integration tests share one running stack and some crash parts of it on purpose: run files one at a time.
  maxWorkers: 1,
  // After a full run (all four projects, the global teardowns done, no child process or socket left)
  // one handle still kept jest alive; not found yet. Exit once the run and its teardowns are over.
  forceExit: true,
  reporters: ['default', '<rootDir>/stack/test/totals-reporter.js'],
};
