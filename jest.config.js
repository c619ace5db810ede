// ESM all the way: NestJS 12 ships ESM-only packages, so jest runs under
// --experimental-vm-modules (see "test" in package.json) and ts-jest emits ESM.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  testTimeout: 30000,
  // e2e suites each start an app on their own temp database; two workers fit two cores.
  maxWorkers: 2,
};
