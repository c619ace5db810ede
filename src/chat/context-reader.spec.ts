import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { AnswerPart } from '../agent/answer-parts.js';
import { loadConfig } from '../config/app-config.js';
import { databaseOptions } from '../persistence/database-options.js';
import { HotPathSql } from '../persistence/hot-path-sql.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import { MessageRepository, type NewMessage } from '../persistence/message.repository.js';
import { runMigrations } from '../persistence/run-migrations.js';
import { WriteQueue } from '../persistence/write-queue.js';
import { ContextReader } from './context-reader.js';

describe('ContextReader on a real SQLite file', () => {
  const conversation = 'c1';
  let dir: string;
  let dataSource: DataSource;
  let repository: MessageRepository;
  /** The rows each database read returned, by read. */
  let reads: number[];

  const reader = (env: Record<string, string> = {}) => new ContextReader(repository, loadConfig({ DATABASE_URL: join(dir, 'unused.sqlite'), ...env }, dir));
  /** The same walks with nothing kept in memory: what the cached reader must always agree with. */
  const uncached = (env: Record<string, string> = {}) => reader({ ...env, CONTEXT_CACHE_MB: '0' });

  const user = (content: string): NewMessage => ({ role: 'user', content, status: 'complete', timestamp: nextTimestamp() });
  const streaming = (): NewMessage => ({ role: 'model', content: '', status: 'streaming', timestamp: nextTimestamp(), model: 'm' });

  /** What ChatService does for one answer: store prompt and answer, read the context, store the answer. */
  async function answer(context: ContextReader, prompt: string, text: string, options: { parentId?: number; parts?: AnswerPart[] } = {}) {
    const [promptRow, answerRow] = await repository.append(conversation, [user(prompt), streaming()], { parentId: options.parentId });
    context.answerStarted(conversation, promptRow, answerRow);
    const turns = await context.turns(conversation, promptRow.id);
    context.answerStoring(answerRow.id);
    const stored = await repository.finishAnswer(answerRow, { status: 'complete', content: text, ...(options.parts && { parts: JSON.stringify(options.parts) }) });
    context.answerStored(conversation, stored);
    return { prompt: promptRow, answer: stored, turns };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'context-reader-spec-'));
    dataSource = await new DataSource(databaseOptions({ type: 'sqlite', path: join(dir, 'chat.sqlite') })).initialize();
    await runMigrations(dataSource);
    repository = new MessageRepository(dataSource, new HotPathSql(dataSource, new WriteQueue(dataSource)));
    reads = [];
    const contextPath = repository.contextPath.bind(repository);
    repository.contextPath = async (...args) => {
      const rows = await contextPath(...args);
      reads.push(rows.length);
      return rows;
    };
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the database only for what no earlier answer of this process stored or read', async () => {
    const context = reader();
    const first = await answer(context, 'q1', 'a1');
    expect(first.turns).toEqual([{ role: 'user', content: 'q1' }]);
    for (let i = 2; i <= 40; i++) {
      const { turns } = await answer(context, `q${i}`, `a${i}`);
      expect(turns).toHaveLength(2 * i - 1);
      expect(turns.slice(-2)).toEqual([{ role: 'model', content: `a${i - 1}` }, { role: 'user', content: `q${i}` }]);
    }
    expect(reads).toEqual([]);

    // A process that has read nothing yet reads the newest two first, then pages of 64.
    const cold = reader();
    const [q41] = await repository.append(conversation, [user('q41')]);
    expect(await cold.turns(conversation, q41.id)).toEqual(await uncached().turns(conversation, q41.id));
    expect(reads.slice(0, 3)).toEqual([2, 64, 15]);
    reads = [];
    const [q42] = await repository.append(conversation, [user('q42')], { parentId: q41.id - 1 });
    await cold.turns(conversation, q42.id);
    expect(reads).toEqual([2]); // q42 and, above it, the answer a40, already read: all the rest from memory
  });

  it('agrees with the database on branches, tool steps, answers streaming elsewhere and the token budget', async () => {
    const budget = { CONTEXT_MAX_TOKENS: '200' };
    const context = reader(budget);
    const { answer: a1 } = await answer(context, 'q1', 'a1');
    const parts: AnswerPart[] = [
      { type: 'tool-call', toolCallId: 't1', toolName: 'clock', input: {} },
      { type: 'tool-result', toolCallId: 't1', toolName: 'clock', output: 'noon' },
      { type: 'text', text: 'it is noon' },
    ];
    const { answer: a2 } = await answer(context, 'q2', 'it is noon', { parts });
    await answer(context, 'q2 edited', 'a2 edited', { parentId: a1.id });
    // An answer another instance is writing: left out, and read again once stored.
    const [, a3] = await repository.append(conversation, [user('q3'), streaming()], { parentId: a2.id });
    await dataSource.query(`UPDATE messages SET instance_id = 'another instance' WHERE id = ?`, [a3.id]);
    const q4 = await answer(context, 'q4', 'a4', { parentId: a3.id });
    expect(q4.turns).toEqual(await uncached(budget).turns(conversation, q4.prompt.id));
    expect(q4.turns.map((t) => t.content)).toEqual(['q1', 'a1', 'q2', '', 'noon', 'it is noon', 'q3', 'q4']);
    await repository.finishAnswer(a3, { status: 'complete', content: 'a3, stored by the other instance' });
    const [q5] = await repository.append(conversation, [user('q5')], { parentId: q4.answer.id });
    const turns = await context.turns(conversation, q5.id);
    expect(turns).toEqual(await uncached(budget).turns(conversation, q5.id));
    expect(turns.map((t) => t.content)).toContain('a3, stored by the other instance');

    // The budget: the newest that fit, the newest prompt always.
    const long = await answer(context, 'x'.repeat(1_000), 'a6', { parentId: q4.answer.id });
    expect(long.turns).toEqual([{ role: 'user', content: 'x'.repeat(1_000) }]);
    expect(long.turns).toEqual(await uncached(budget).turns(conversation, long.prompt.id));
  });

  it('passes through the answers this process is writing, and reads them once they are stored', async () => {
    const context = reader();
    const { answer: a1 } = await answer(context, 'q1', 'a1');
    const [q2, a2] = await repository.append(conversation, [user('q2'), streaming()], { parentId: a1.id });
    context.answerStarted(conversation, q2, a2);
    // A prompt sent under the answer while it is still being written.
    const [q3, a3] = await repository.append(conversation, [user('q3'), streaming()], { parentId: a2.id });
    context.answerStarted(conversation, q3, a3);
    expect((await context.turns(conversation, q3.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'q3']);
    expect(reads).toEqual([]);

    context.answerStoring(a2.id);
    await repository.checkpoint(a2.id, 'a2 so far');
    expect((await context.turns(conversation, q3.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'q3']); // streaming in the database
    context.answerStored(conversation, await repository.finishAnswer(a2, { status: 'complete', content: 'a2' }));
    reads = [];
    expect((await context.turns(conversation, q3.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3']);
    expect(reads).toEqual([]);

    // A store that failed: the answer is read from the database, as it is there.
    context.answerStoring(a3.id);
    const [q4] = await repository.append(conversation, [user('q4')], { parentId: a3.id });
    reads = [];
    expect((await context.turns(conversation, q4.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3', 'q4']);
    expect(reads).toEqual([2]); // q4 and a3; from q3 up, memory
  });

  it('never keeps an answer a sweep marked interrupted while its writer may still store it', async () => {
    const context = reader();
    const { answer: a1 } = await answer(context, 'q1', 'a1');
    const [, a2] = await repository.append(conversation, [user('q2'), streaming()], { parentId: a1.id });
    await dataSource.query(`UPDATE messages SET instance_id = 'another instance' WHERE id = ?`, [a2.id]);
    await repository.checkpoint(a2.id, 'partial');
    // What InterruptedAnswers does to the answers of an instance that looks gone: the writer's id stays.
    await dataSource.query(`UPDATE messages SET status = 'interrupted', error = 'gone' WHERE id = ?`, [a2.id]);
    const [q3] = await repository.append(conversation, [user('q3')], { parentId: a2.id });
    expect((await context.turns(conversation, q3.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'partial', 'q3']);
    await repository.finishAnswer(a2, { status: 'complete', content: 'the whole answer' });
    expect((await context.turns(conversation, q3.id)).map((t) => t.content)).toEqual(['q1', 'a1', 'q2', 'the whole answer', 'q3']);
  });

  it('makes the turns of the messages it picks only: a broken answer above the budget is never read', async () => {
    const { answer: a1 } = await answer(reader(), 'q1', 'a1');
    await dataSource.query(`UPDATE messages SET parts = '{not json' WHERE id = ?`, [a1.id]);
    const [q2] = await repository.append(conversation, [user('x'.repeat(1_000))], { parentId: a1.id });
    const cold = reader({ CONTEXT_MAX_TOKENS: '200' });
    expect(await cold.turns(conversation, q2.id)).toEqual([{ role: 'user', content: 'x'.repeat(1_000) }]);
    expect(reads).toEqual([2]); // the prompt, over the budget alone, and the answer, which ends the walk
  });

  it("does not walk from another conversation's message", async () => {
    const context = reader();
    const { prompt } = await answer(context, 'secret', 'a1');
    expect(await context.turns('another conversation', prompt.id)).toEqual([]);
  });

  it('holds no more than its budget, and answers the same when it has to drop entries', async () => {
    const context = reader({ CONTEXT_CACHE_MB: '0' });
    const small = new ContextReader(repository, { ...loadConfig({ DATABASE_URL: join(dir, 'unused.sqlite') }, dir), contextCacheBytes: 4_000 });
    let last: { prompt: MessageEntity } | undefined;
    for (let i = 0; i < 60; i++) last = await answer(small, `q${i} ${'x'.repeat(50)}`, `a${i} ${'y'.repeat(50)}`);
    expect(await small.turns(conversation, last!.prompt.id)).toEqual(await context.turns(conversation, last!.prompt.id));
    expect(small.cachedBytes).toBeLessThanOrEqual(4_000);
    expect(small.cachedBytes).toBeGreaterThan(2_000);
  });
});
