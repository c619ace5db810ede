import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { databaseOptions } from './database-options.js';
import { nextTimestamp } from './message-clock.js';
import { MessageRepository, type NewMessage } from './message.repository.js';
import { runMigrations } from './run-migrations.js';
import { HotPathSql } from './hot-path-sql.js';
import { WriteQueue } from './write-queue.js';

describe('MessageRepository on a real SQLite file', () => {
  let dir: string;
  let path: string;
  let dataSource: DataSource;
  let repository: MessageRepository;

  const user = (content: string): NewMessage => ({ role: 'user', content, status: 'complete', timestamp: nextTimestamp() });
  const model = (content: string, status: NewMessage['status'] = 'complete'): NewMessage => ({
    role: 'model',
    content,
    status,
    timestamp: nextTimestamp(),
    model: 'test-model',
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'repo-spec-'));
    path = join(dir, 'nested', 'chat.sqlite');
    dataSource = await new DataSource(databaseOptions({ type: 'sqlite', path })).initialize();
    await runMigrations(dataSource);
    repository = new MessageRepository(dataSource, new HotPathSql(dataSource, new WriteQueue(dataSource)));
  });

  /** Every message of a conversation, oldest first, through the paged reader the app uses. */
  async function listConversation(conversationId: string) {
    const all = [];
    for await (const page of repository.iterate(conversationId)) all.push(...page);
    return all;
  }

  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the folder and the schema by migration, in WAL mode', async () => {
    const rows = await dataSource.query<{ journal_mode: string }[]>('PRAGMA journal_mode');
    expect(rows[0].journal_mode).toBe('wal');
    const migrations = await dataSource.query<{ name: string }[]>('SELECT name FROM migrations');
    expect(migrations.map((m) => m.name)).toEqual([
      'CreateMessages1763700000000',
      'ConversationsAndUsage1763800000000',
      'OwnersAndInstances1763900000000',
      'ToolParts1764000000000',
    ]);
  });

  it('appends a list in order, with increasing ids, and lists a conversation oldest first', async () => {
    const saved = await repository.append('c1', [user('q1'), model('a1')]);
    await repository.append('c2', [user('other')]);
    await repository.append('c1', [user('q2'), model('partial', 'interrupted')]);
    expect(saved[0].id).toBeLessThan(saved[1].id);

    const listed = await listConversation('c1');
    expect(listed.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'q1', 'complete'],
      ['model', 'a1', 'complete'],
      ['user', 'q2', 'complete'],
      ['model', 'partial', 'interrupted'],
    ]);
    expect(listed[1].model).toBe('test-model');
    expect(listed[0].model).toBeNull();
    expect(listed.map((m) => m.id)).toEqual([...listed.map((m) => m.id)].sort((a, b) => a - b));
  });

  it('keeps timestamps exactly as given', async () => {
    const message = user('q');
    await repository.append('c1', [message]);
    const [stored] = await listConversation('c1');
    expect(stored.timestamp).toBe(message.timestamp);
  });

  it('stores a list in one transaction: a failing row leaves none of the list behind', async () => {
    const broken = { ...model('a'), content: null as unknown as string };
    await expect(repository.append('c1', [user('q'), broken])).rejects.toMatchObject({ message: expect.stringMatching(/NOT NULL/) });
    expect(await listConversation('c1')).toEqual([]);
    // The repository still works after the rollback.
    await repository.append('c1', [user('after')]);
    expect((await listConversation('c1')).map((m) => m.content)).toEqual(['after']);
  });

  it('takes concurrent appends without interleaving transactions', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => repository.append('c1', [user(`q${i}`), model(`a${i}`)])),
    );
    const listed = await listConversation('c1');
    expect(listed).toHaveLength(100);
    // Each pair stayed together: a transaction's rows are adjacent.
    for (let i = 0; i < 100; i += 2) {
      expect(listed[i + 1].content).toBe(listed[i].content.replace('q', 'a'));
    }
  });

  it('survives closing and reopening the file', async () => {
    await repository.append('c1', [user('q1'), model('a1')]);
    await dataSource.destroy();
    dataSource = await new DataSource(databaseOptions({ type: 'sqlite', path })).initialize();
    await runMigrations(dataSource);
    repository = new MessageRepository(dataSource, new HotPathSql(dataSource, new WriteQueue(dataSource)));
    await repository.append('c1', [user('q2')]);
    expect((await listConversation('c1')).map((m) => m.content)).toEqual(['q1', 'a1', 'q2']);
    // Another SQLite client sees the same rows: the data is in the file, not in memory.
    await dataSource.destroy();
    const raw = new Database(path, { readonly: true });
    const count = raw.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number };
    raw.close();
    expect(count.n).toBe(3);
  });
});
