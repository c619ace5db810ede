import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createPostgresDatabase, dropPostgresDatabase, withPostgres } from './postgres.js';

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

export { postgresAdminUrl } from './postgres.js';

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
  const { name: database, url: databaseUrl } = await createPostgresDatabase(`chat_test_${name.toLowerCase().replace(/[^a-z0-9]/g, '_')}`);
  return {
    kind: 'postgres',
    url: databaseUrl,
    readMessages: () =>
      withPostgres(databaseUrl, async (client) => (await client.query<MessageRow>('SELECT * FROM messages ORDER BY id')).rows),
    execute: (statements) =>
      withPostgres(databaseUrl, async (client) => {
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
    drop: () => dropPostgresDatabase(database),
  };
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
