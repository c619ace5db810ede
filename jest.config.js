// ESM all the way: NestJS 12 ships ESM-only packages, so jest runs under
// --experimental-vm-modules (see "test" in package.json) and ts-jest emits ESM.
//
// Three projects: the unit specs, the e2e suite on SQLite files, and the same e2e suite on
// PostgreSQL (a fresh database per app, on TEST_POSTGRES_URL). Without a reachable PostgreSQL
// the last one is left out with a loud warning; with CHAT_TESTS_REQUIRE_ALL=1 (.ci/run) that
// is an error instead.
import pg from 'pg';

const postgresAdminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://chat:chat@127.0.0.1:5432/chat';

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};

async function postgresProblem() {
  const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function config() {
  const projects = [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e sqlite', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], globals: { CHAT_TEST_DATABASE: 'sqlite' } },
  ];
  const wantsPostgres = process.env.CHAT_TEST_DATABASES === undefined || process.env.CHAT_TEST_DATABASES.includes('postgres');
  const problem = wantsPostgres ? await postgresProblem() : 'CHAT_TEST_DATABASES leaves it out';
  if (problem === null) {
    projects.push({
      ...shared,
      displayName: 'e2e postgres',
      // *.pg-e2e-spec.ts: what only a shared PostgreSQL can do (several instances on one database).
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.pg-e2e-spec.ts'],
      globals: { CHAT_TEST_DATABASE: 'postgres' },
    });
  } else {
    const message = `The e2e suite on PostgreSQL is SKIPPED: ${postgresAdminUrl.replace(/:[^:@/]*@/, ':***@')} is not usable (${problem}). Start PostgreSQL (see README, "Tests") or set TEST_POSTGRES_URL.`;
    if (process.env.CHAT_TESTS_REQUIRE_ALL === '1') throw new Error(message);
    console.warn(`\n${'!'.repeat(100)}\n${message}\n${'!'.repeat(100)}\n`);
  }
  return {
    projects,
    globalSetup: '<rootDir>/test/global-setup.js',
    testTimeout: 30000,
    // e2e suites each start an app on their own temp database; two workers fit two cores.
    maxWorkers: 2,
  };
}
