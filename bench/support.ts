import Database from 'better-sqlite3';

export { type AppProcess, startBuiltApp } from '../test/support/built-app.js';

/** Stores `turns` exchanges of a conversation straight into the SQLite file. */
export function seedTurns(databasePath: string, conversationId: string, turns: number): void {
  const db = new Database(databasePath);
  const now = new Date().toISOString().replace('Z', '000Z');
  db.prepare(`INSERT OR IGNORE INTO conversations (id, title, created_at, updated_at) VALUES (?, 'bench', ?, ?)`).run(conversationId, now, now);
  const insert = db.prepare(
    `INSERT INTO messages (conversation_id, role, content, status, timestamp, created_at) VALUES (?, ?, ?, 'complete', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < turns; i++) {
      const stamp = new Date(Date.UTC(2020, 0, 1) + i).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`);
      insert.run(conversationId, 'user', `question ${i} ${'x'.repeat(200)}`, stamp, stamp);
      insert.run(conversationId, 'model', `answer ${i} ${'y'.repeat(400)}`, stamp, stamp);
    }
  })();
  db.close();
}

/** Sends a request and reads the body, timing the first byte and the end. */
export async function timedRequest(url: string, init: RequestInit): Promise<{ firstByteMs: number; totalMs: number; bytes: number; text: string }> {
  const started = performance.now();
  const response = await fetch(url, init);
  let firstByteMs = -1;
  let bytes = 0;
  const parts: Buffer[] = [];
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
    bytes += chunk.byteLength;
    parts.push(Buffer.from(chunk));
  }
  return { firstByteMs, totalMs: performance.now() - started, bytes, text: Buffer.concat(parts).toString('utf8') };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
