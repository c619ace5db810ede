import type { INestApplication } from '@nestjs/common';
import { HotPathSql } from '../../src/persistence/hot-path-sql.js';

/**
 * Counts the message rows the app reads through its per-answer SQL from now on, by wrapping
 * HotPathSql.execute and HotPathSql.tuples: how the tests see the database work a request does.
 * Rows as returned: on SQLite a page of `GET /chat/` comes back as one row (its lines).
 */
export function countMessageRowsRead(app: INestApplication): { readonly count: number } {
  const sql = app.get(HotPathSql, { strict: false });
  const counter = { count: 0 };
  // A SELECT, or a walk up the tree (WITH RECURSIVE … SELECT … FROM messages).
  const reads = (text: string) => /^\s*(?:SELECT|WITH)\b[\s\S]*\bFROM messages\b/i.test(text);
  const counted = <R extends unknown[]>(text: string, result: Promise<R> | R): Promise<R> | R => {
    if (!reads(text)) return result;
    if (Array.isArray(result)) {
      counter.count += result.length;
      return result;
    }
    return result.then((rows) => {
      counter.count += rows.length;
      return rows;
    });
  };
  const execute = sql.execute.bind(sql);
  const tuples = sql.tuples.bind(sql);
  sql.execute = ((text, params, manager) => counted(text, execute(text, params, manager)));
  sql.tuples = ((text, params) => counted(text, tuples(text, params)));
  return counter;
}
