import type { INestApplication } from '@nestjs/common';
import { HotPathSql } from '../../src/persistence/hot-path-sql.js';

/**
 * Counts the message rows the app reads through its per-answer SQL from now on, by wrapping
 * HotPathSql.execute: how the tests see the database work a request does.
 */
export function countMessageRowsRead(app: INestApplication): { readonly count: number } {
  const sql = app.get(HotPathSql, { strict: false });
  const execute = sql.execute.bind(sql);
  const counter = { count: 0 };
  // A SELECT, or a walk up the tree (WITH RECURSIVE … SELECT … FROM messages).
  const reads = (text: string) => /^\s*(?:SELECT|WITH)\b[\s\S]*\bFROM messages\b/i.test(text);
  sql.execute = ((text, params, manager) => {
    const result = execute(text, params, manager);
    if (!reads(text)) return result;
    if (Array.isArray(result)) {
      counter.count += result.length;
      return result;
    }
    return result.then((rows) => {
      counter.count += rows.length;
      return rows;
    });
  }) as HotPathSql['execute'];
  return counter;
}
