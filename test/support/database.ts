import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface MessageRow {
  id: number;
  conversation_id: string;
  role: string;
  content: string;
  status: string;
  error: string | null;
  model: string | null;
  timestamp: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

export type SqlValue = string | number | null;

/**
 * The database a test's app runs on, opened beside the app as a second client would. Which
 * kind is the jest project's choice (`CHAT_TEST_DATABASE`, see jest.config.js): the same e2e
 * suite runs on a SQLite file and on a fresh PostgreSQL database.
 */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** The app's DATABASE_URL. */
  readonly url: string;
  readMessages(): Promise<MessageRow[]>;
  /** Runs statements written with `?` placeholders, in one transaction. */
  execute(statements: readonly { sql: string; params?: readonly SqlValue[] }[]): Promise<void>;
  /** Removes the database (PostgreSQL; the SQLite file goes with its temp folder). */
  drop(): Promise<void>;
}

declare global {
  var CHAT_TEST_DATABASE: 'sqlite' | 'postgres' | undefined;
}

/** Where the PostgreSQL runs: an admin URL that may create and drop databases. */
export const postgresAdminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://chat:chat@127.0.0.1:5432/chat';

export function testDatabaseKind(): 'sqlite' | 'postgres' {
  return globalThis.CHAT_TEST_DATABASE ?? 'sqlite';
}

/** A new, empty database of this run's kind: a file in `dir`, or a fresh PostgreSQL database. */
export async function testDatabase(dir: string, name = 'chat'): Promise<TestDatabase> {
  return testDatabaseKind() === 'postgres' ? postgresDatabase(name) : sqliteDatabase(join(dir, `${name}.sqlite`));
}

function sqliteDatabase(path: string): TestDatabase {
  return {
    kind: 'sqlite',
    url: path,
    readMessages: () => {
      // WAL lets a second connection read while the app writes.
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return Promise.resolve(db.prepare('SELECT * FROM messages ORDER BY id').all() as MessageRow[]);
      } finally {
        db.close();
      }
    },
    execute: (statements) => {
      const db = new Database(path);
      try {
        db.transaction(() => {
          for (const { sql, params = [] } of statements) db.prepare(sql).run(...params);
        })();
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    drop: () => Promise.resolve(),
  };
}

async function postgresDatabase(name: string): Promise<TestDatabase> {
  const database = `chat_test_${name.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomBytes(6).toString('hex')}`;
  await withClient(postgresAdminUrl, (client) => client.query(`CREATE DATABASE ${database}`));
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  return {
    kind: 'postgres',
    url: databaseUrl,
    readMessages: () =>
      withClient(databaseUrl, async (client) => (await client.query<MessageRow>('SELECT * FROM messages ORDER BY id')).rows),
    execute: (statements) =>
      withClient(databaseUrl, async (client) => {
        await client.query('BEGIN');
        for (const { sql, params = [] } of statements) {
          let n = 0;
          await client.query(
            sql.replace(/\?/g, () => `$${++n}`),
            [...params],
          );
        }
        await client.query('COMMIT');
      }),
    drop: () => dropDatabase(database),
  };
}

/**
 * Drops a test database and whatever is still connected to it. An autovacuum worker that
 * happens to be in it cannot be terminated by a login without pg_signal_backend: then wait
 * for the worker to finish, briefly, and try again.
 */
async function dropDatabase(database: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await withClient(postgresAdminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Polls until `predicate` holds for the stored rows, or fails after `timeoutMs`. */
export async function waitForMessages(
  db: TestDatabase,
  predicate: (rows: MessageRow[]) => boolean,
  timeoutMs = 2000,
): Promise<MessageRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.readMessages();
    if (predicate(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`stored messages never matched: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
