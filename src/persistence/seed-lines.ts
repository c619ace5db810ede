import type { SeedLine } from '../contract/api-shapes.js';

/** A stored message, as much of it as its seed line shows. */
export type SeedRow = Pick<SeedLine, 'role' | 'timestamp' | 'content'>;

/**
 * Stored messages as lines of the seed format (`{"role":…,"timestamp":…,"content":…}` and a
 * newline each), in one string: each line written out field by field, the same bytes as
 * JSON.stringify of a SeedLine (src/chat/seed-format.ts writes the lines of a running answer).
 */
export function seedLinesOf(rows: readonly SeedRow[]): string {
  let lines = '';
  for (const { role, timestamp, content } of rows) {
    lines += `{"role":${JSON.stringify(role)},"timestamp":${JSON.stringify(timestamp)},"content":${JSON.stringify(content)}}\n`;
  }
  return lines;
}

/**
 * The same line, written by SQLite from a `messages` row: json_object escapes text as
 * JSON.stringify does (quotes, backslashes, the short escapes, \u00XX for other control
 * characters, everything else as it is), and stored text holds no lone surrogates
 * (src/common/storable-text.ts), the one place where the two would differ. The spec holds them
 * to the same bytes. Built in SQLite, a page of history reaches JavaScript as one string instead
 * of a string per field per row (README, Performance). Its caller orders the lines inside
 * group_concat, which takes ORDER BY from SQLite 3.44 (better-sqlite3 12 bundles 3.53).
 */
export const SQLITE_SEED_LINE = `json_object('role', role, 'timestamp', timestamp, 'content', content) || char(10)`;
