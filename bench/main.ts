import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAi } from '../test/support/fake-openai.js';
import { percentile, round, seedTurns, startBuiltApp, timedRequest } from './support.js';

/**
 * `npm run bench`: starts the fake upstream and the built app on a temp database and prints
 * figures, a table and one JSON line. Timings are medians of repeated runs on this machine.
 */
async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const fake = await FakeOpenAi.start();
  const databasePath = join(work, 'bench.sqlite');
  const app = await startBuiltApp({ OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'bench', DATABASE_URL: databasePath });
  const results: Record<string, unknown> = {};
  try {
    results.wireCost = await wireCost(app.url, fake);
    await app.stop();
    results.historyGrowth = await historyGrowth(fake, databasePath);
  } finally {
    await app.stop();
    await fake.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'nest-chat-app', node: process.version, ...results }));
}

/** Bytes on the wire for one 20,000-character answer: the seed's cumulative format against deltas. */
async function wireCost(url: string, fake: FakeOpenAi) {
  const tokens = Array.from({ length: 4000 }, (_, i) => `t${String(i % 1000).padStart(3, '0')} `); // 5 chars each
  const answerBytes = Buffer.byteLength(tokens.join(''));
  const conversation = (await (await fetch(`${url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string };
  const rows: { format: string; bytes: number; lines: number; ratio: number }[] = [];
  for (const format of ['full', 'delta']) {
    fake.enqueue({ tokens, tokenDelayMs: 1 });
    const result = await timedRequest(`${url}/api/conversations/${conversation.id}/messages?format=${format}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a long answer please' }),
    });
    rows.push({ format, bytes: result.bytes, lines: result.text.split('\n').length - 1, ratio: round(result.bytes / answerBytes) });
  }
  console.log(`\nWire cost of one ${answerBytes}-byte answer (4,000 tokens at 1 ms, CHAT_DEBOUNCE_MS=10):`);
  console.table(rows);
  return { answerBytes, formats: rows };
}

/** POST time with a short and a long stored history: the context read is bounded, so it should not grow. */
async function historyGrowth(fake: FakeOpenAi, databasePath: string) {
  const rows: { storedMessages: number; firstByteP50Ms: number; lastByteP50Ms: number; seedHistoryGetMs: number }[] = [];
  for (const turns of [5, 5000]) {
    const conversationId = turns === 5 ? '11111111-1111-4111-8111-111111111111' : '22222222-2222-4222-8222-222222222222';
    seedTurns(databasePath, conversationId, turns);
    seedTurns(databasePath, '00000000-0000-0000-0000-000000000000', turns);
    const app = await startBuiltApp({ OPENAI_BASE_URL: fake.baseURL, OPENAI_MODEL: 'bench', DATABASE_URL: databasePath });
    try {
      fake.setDefault({ tokenCount: 20 });
      const firstBytes: number[] = [];
      const lastBytes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const result = await timedRequest(`${app.url}/api/conversations/${conversationId}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `question ${i}` }),
        });
        if (i >= 5) {
          firstBytes.push(result.firstByteMs);
          lastBytes.push(result.totalMs);
        }
      }
      const gets: number[] = [];
      for (let i = 0; i < 5; i++) gets.push((await timedRequest(`${app.url}/chat/`, {})).totalMs);
      rows.push({
        storedMessages: turns * 2,
        firstByteP50Ms: round(percentile(firstBytes, 50)),
        lastByteP50Ms: round(percentile(lastBytes, 50)),
        seedHistoryGetMs: round(percentile(gets, 50)),
      });
    } finally {
      await app.stop();
    }
    // The default conversation is re-seeded per size: clear it so each size stands alone.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(databasePath);
    db.prepare(`DELETE FROM messages WHERE conversation_id = '00000000-0000-0000-0000-000000000000'`).run();
    db.close();
  }
  console.log('\nPOST /api/conversations/:id/messages (20-token answer, no upstream delay) and GET /chat/ by stored history:');
  console.table(rows);
  return rows;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
