import type { NestExpressApplication } from '@nestjs/platform-express';
import { type RunningApp, startApp, type StartOptions, tempDir } from './app-harness.js';
import { type AppProcess, startBuiltApp } from './built-app.js';
import { type TestDatabase, testDatabase } from './database.js';
import { FakeOpenAi, type FakeReply } from './fake-openai.js';

/** App environment; `undefined` unsets a variable the base env would set. */
export type Env = Record<string, string | undefined>;

export interface E2eFixtureOptions {
  /**
   * The fake upstream's default reply (`{}`: five words). `false`: no fake and no OPENAI_*
   * variables, so the app answers with its built-in offline model.
   */
  readonly upstream?: FakeReply | false;
  /** Added to the base env of every app `start` and `startBuilt` run. */
  readonly env?: Env;
  /** Start the app in the set-up hook (the default); `false`: each test calls `start(env)` itself. */
  readonly autoStart?: boolean;
  /** `'test'` (the default): a fresh set for each test; `'file'`: one set for all tests of the block. */
  readonly scope?: 'test' | 'file';
}

export interface E2eFixture {
  /** The fake OpenAI-compatible upstream (none with `upstream: false`). */
  readonly fake: FakeOpenAi;
  /** The database the app runs on: a file in `dir`, or a fresh PostgreSQL database. */
  readonly db: TestDatabase;
  readonly dir: { readonly path: string; remove(): void };
  /** The in-process app `start` (or the set-up hook) started, while it runs. */
  readonly running: RunningApp;
  readonly app: NestExpressApplication;
  readonly url: string;
  /** What every app of this fixture is configured with: upstream, database, then `options.env`. */
  readonly env: Env;
  /** Closes the running app, if any, and starts it again on the base env plus `env`. */
  start(env?: Env, options?: StartOptions): Promise<RunningApp>;
  /** Closes the running app, if any. */
  stop(): Promise<void>;
  /**
   * Another in-process app beside the running one, on exactly `env` (spread `env` of the
   * fixture to share the base); closed at teardown unless the test closed it.
   */
  startAnother(env: Env, options?: StartOptions): Promise<RunningApp>;
  /** dist/main.js in its own process, on the base env plus `env`; stopped at teardown. */
  startBuilt(env?: Env, nodeArgs?: readonly string[]): Promise<AppProcess>;
  /** Another empty database of this run's kind, dropped at teardown. */
  database(name: string): Promise<TestDatabase>;
}

interface Resources {
  dir?: ReturnType<typeof tempDir>;
  db?: TestDatabase;
  fake?: FakeOpenAi;
  running?: RunningApp;
  /** In-process apps not closed yet, and every built one (stopping one that has exited does nothing). */
  readonly apps: Set<{ close(): Promise<void> }>;
  readonly databases: TestDatabase[];
}

/**
 * The set-up most e2e specs share: a temp folder, a database of the project's kind, a fake
 * upstream and the app on them, made in jest hooks of the block this is called in, and torn
 * down with whatever a failed test left open, so the worker can exit. A spec whose own hooks
 * open clients of the app (a browser) calls it in an outer block: jest runs an inner block's
 * after-hooks first, so those clients close before the app does.
 */
export function useE2eFixture(options: E2eFixtureOptions = {}): E2eFixture {
  const { upstream = {}, autoStart = true, scope = 'test' } = options;
  let current: Resources | undefined;

  const resources = (): Resources => {
    if (!current) throw new Error('The e2e fixture is only set up inside its tests and their hooks.');
    return current;
  };
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The e2e fixture has no ${what}.`);
    return value;
  };

  const baseEnv = (): Env => {
    const { db, fake } = resources();
    const upstreamEnv: Env = fake ? { OPENAI_BASE_URL: fake.baseURL } : { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined };
    return { ...upstreamEnv, DATABASE_URL: need(db, 'database').url, ...options.env };
  };

  /** Closing twice (by the test, then at teardown) closes once. */
  const tracked = (app: RunningApp): RunningApp => {
    const { apps } = resources();
    let closing: Promise<void> | undefined;
    const close = () => {
      apps.delete(handle);
      return (closing ??= app.close());
    };
    const handle = { close };
    apps.add(handle);
    return { ...app, close };
  };

  const stop = async (): Promise<void> => {
    const res = resources();
    const running = res.running;
    res.running = undefined;
    await running?.close();
  };

  const start = async (env: Env = {}, startOptions: StartOptions = {}): Promise<RunningApp> => {
    await stop();
    const res = resources();
    res.running = tracked(await startApp({ ...baseEnv(), ...env }, startOptions));
    return res.running;
  };

  const setUp = async (): Promise<void> => {
    const res: Resources = { apps: new Set(), databases: [] };
    current = res;
    res.dir = tempDir();
    res.db = await testDatabase(res.dir.path);
    if (upstream !== false) res.fake = await FakeOpenAi.start(upstream);
    if (autoStart) await start();
  };

  /** Apps first (they hold connections to the fake and the database), the folder last. */
  const tearDown = async (): Promise<void> => {
    const res = current;
    current = undefined;
    if (!res) return;
    const failures: unknown[] = [];
    const settle = async (steps: Promise<unknown>[]) => {
      for (const result of await Promise.allSettled(steps)) if (result.status === 'rejected') failures.push(result.reason);
    };
    await settle([...res.apps].map((app) => app.close()));
    if (res.fake) await settle([res.fake.close()]);
    await settle([...res.databases, ...(res.db ? [res.db] : [])].map((db) => db.drop()));
    try {
      res.dir?.remove();
    } catch (error) {
      failures.push(error);
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'e2e fixture teardown failed');
  };

  if (scope === 'file') {
    beforeAll(setUp);
    afterAll(tearDown);
  } else {
    beforeEach(setUp);
    afterEach(tearDown);
  }

  return {
    get fake() {
      return need(resources().fake, 'fake upstream (upstream: false)');
    },
    get db() {
      return need(resources().db, 'database');
    },
    get dir() {
      return need(resources().dir, 'temp folder');
    },
    get running() {
      return need(resources().running, 'running app (start it first)');
    },
    get app() {
      return this.running.app;
    },
    get url() {
      return this.running.url;
    },
    get env() {
      return baseEnv();
    },
    start,
    stop,
    startAnother: async (env, startOptions = {}) => tracked(await startApp(env, startOptions)),
    startBuilt: async (env = {}, nodeArgs = []) => {
      const { apps } = resources();
      const app = await startBuiltApp({ ...baseEnv(), ...env }, nodeArgs);
      const handle = { close: () => app.stop() };
      apps.add(handle);
      return app;
    },
    database: async (name) => {
      const res = resources();
      const db = await testDatabase(need(res.dir, 'temp folder').path, name);
      res.databases.push(db);
      return db;
    },
  };
}
