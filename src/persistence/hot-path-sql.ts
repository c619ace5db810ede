import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { WriteQueue } from './write-queue.js';

interface SqliteStatement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
  raw(toggle: boolean): SqliteStatement;
}

interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
}

/**
 * Plain SQL for what runs on every answer (ownership check, append, context, finish), through
 * TypeORM's own connection: the entity machinery of save()/find() cost more CPU per answer than
 * relaying the answer itself (README, Performance). SQL is written with `?` placeholders.
 * On SQLite, statements are prepared once on better-sqlite3's connection and complete
 * synchronously; on PostgreSQL they go through TypeORM's pool.
 */
@Injectable()
export class HotPathSql {
  private readonly sqlite: SqliteConnection | undefined;
  private readonly prepared = new Map<string, SqliteStatement>();
  private readonly preparedTuples = new Map<string, SqliteStatement>();
  private readonly numbered = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly writes: WriteQueue,
  ) {
    this.sqlite =
      dataSource.options.type === 'better-sqlite3'
        ? (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection
        : undefined;
  }

  /** Whether statements run on SQLite (else PostgreSQL), for the few queries whose SQL differs. */
  get isSqlite(): boolean {
    return this.sqlite !== undefined;
  }

  /** PostgreSQL locks rows itself; SQLite writers already take turns (one connection, the write queue). */
  get locksRows(): boolean {
    return this.sqlite === undefined;
  }

  /** Runs one statement; rows for a query or a RETURNING clause. Inside `transaction`, pass its manager. */
  execute<T>(sql: string, params: readonly unknown[], manager?: EntityManager): Promise<T[]> | T[] {
    if (this.sqlite) {
      const statement = prepareOnce(this.prepared, this.sqlite, sql, false);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    }
    return (manager ?? this.dataSource.manager).query<T[]>(this.postgres(sql), [...params]);
  }

  /**
   * A query's rows as arrays, in the order of its SELECT list: for the reads that return hundreds
   * or thousands of rows (an answer's context, `GET /chat/`). better-sqlite3 builds a row object
   * through N-API at up to twice the cost of an array (README, Performance); the caller makes
   * the plain objects it needs, if any. PostgreSQL's rows keep their columns' order, so the
   * SELECT list's names must be distinct (two `id`s would make one).
   */
  tuples<T extends readonly unknown[]>(sql: string, params: readonly unknown[]): Promise<T[]> | T[] {
    if (this.sqlite) {
      return prepareOnce(this.preparedTuples, this.sqlite, sql, true).all(...params) as T[];
    }
    return this.dataSource.manager.query<Record<string, unknown>[]>(this.postgres(sql), [...params]).then((rows) => rows.map((row) => Object.values(row) as unknown as T));
  }

  /**
   * A write transaction. On SQLite it runs on the connection itself: its statements complete
   * synchronously, so a whole append or finish takes one turn of the event loop instead of a
   * dozen TypeORM round trips, and writes never queue up behind streaming.
   */
  transaction<T>(work: (manager?: EntityManager) => Promise<T>): Promise<T> {
    const sqlite = this.sqlite;
    if (!sqlite) return this.writes.run(() => this.dataSource.transaction((manager) => work(manager)));
    return this.writes.run(async () => {
      sqlite.exec('BEGIN');
      try {
        const result = await work();
        sqlite.exec('COMMIT');
        return result;
      } catch (error) {
        if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /** `?` placeholders as PostgreSQL's $1, $2, …; cached. */
  private postgres(sql: string): string {
    let numbered = this.numbered.get(sql);
    if (numbered === undefined) {
      let n = 0;
      this.numbered.set(sql, (numbered = sql.replace(/\?/g, () => `$${++n}`)));
    }
    return numbered;
  }
}

/** The statement for `sql` from `cache`, prepared on first use (`tuples`: rows as arrays). */
function prepareOnce(cache: Map<string, SqliteStatement>, connection: SqliteConnection, sql: string, tuples: boolean): SqliteStatement {
  let statement = cache.get(sql);
  if (!statement) {
    statement = connection.prepare(sql);
    cache.set(sql, tuples ? statement.raw(true) : statement);
  }
  return statement;
}
