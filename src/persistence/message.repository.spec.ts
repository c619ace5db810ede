import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { databaseOptions } from './database-options.js';
import { migrations } from './migrations/index.js';
import { nextTimestamp } from './message-clock.js';
import { MessageRepository, type NewMessage } from './message.repository.js';
import { runMigrations } from './run-migrations.js';
import { seedLinesOf } from './seed-lines.js';
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
    for await (const page of repository.iterateActivePath(conversationId)) all.push(...page);
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
      'MessageTree1764100000000',
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

  it('reads the seed history along the active path: ids from one walk, then the lines of the messages with text, oldest first', async () => {
    const now = nextTimestamp();
    await dataSource.query(`INSERT INTO conversations (id, owner_id, title, created_at, updated_at) VALUES ('c1', 'local', NULL, ?, ?)`, [now, now]);
    const [q1, a1] = await repository.append('c1', [user('q1'), model('a1')]);
    const [other] = await repository.append('c2', [user('other conversation')]);
    const [q2, empty, a2] = await repository.append('c1', [user('q2'), model('', 'error'), model('a2')]);
    // A branch beside the path (an edit of q2, following a1) that is then switched away from.
    const [edited] = await repository.append('c1', [user('q2 edited')], { parentId: a1.id });
    expect(await repository.activate('c1', a2.id)).toBe(a2.id);

    const ids = await repository.activePathIds('c1');
    expect(ids).toEqual([q1.id, a1.id, q2.id, empty.id, a2.id]);
    expect(ids).not.toContain(edited.id);

    const line = (role: string, timestamp: string, content: string) => `${JSON.stringify({ role, timestamp, content })}\n`;
    expect(await repository.seedLines('c1', ids.slice(0, 2))).toBe(line('user', q1.timestamp, 'q1') + line('model', a1.timestamp, 'a1'));
    // The empty failed answer is left out; ids are read in id order, however they are passed.
    expect(await repository.seedLines('c1', [a2.id, empty.id, q2.id])).toBe(line('user', q2.timestamp, 'q2') + line('model', a2.timestamp, 'a2'));
    expect(await repository.seedLines('c1', [empty.id])).toBe('');
    expect(await repository.seedLines('c1', [other.id])).toBe(''); // another conversation's
    expect(await repository.seedLines('c1', [])).toBe('');
  });

  it("writes SQLite's seed lines with the bytes of JSON.stringify, whatever the stored text holds", async () => {
    const texts = [
      'plain',
      'quotes " and \\ backslashes, \n newlines, \r returns, \t tabs, \b \f, \u0001 \u001f controls, \u007f delete',
      '\u2028 \u2029 separators, </script>, emoji 🎉, ünïcödé, 漢字, \u00a0',
      'a whole paragraph\n\n- with a list\n- and `code` {"json": [1, 2]}',
    ];
    const rows = await repository.append('c1', texts.map((text, i) => (i % 2 === 0 ? user(text) : model(text))));
    const expected = rows.map((row) => `${JSON.stringify({ role: row.role, timestamp: row.timestamp, content: row.content })}\n`).join('');
    expect(await repository.seedLines('c1', rows.map((row) => row.id))).toBe(expected);
    expect(seedLinesOf(rows)).toBe(expected);
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

  describe('the message tree', () => {
    const conversation = 'c-tree';
    const path = async () => (await listConversation(conversation)).map((m) => m.content);

    beforeEach(async () => {
      const now = nextTimestamp();
      await dataSource.query(`INSERT INTO conversations (id, owner_id, title, created_at, updated_at) VALUES (?, 'local', NULL, ?, ?)`, [conversation, now, now]);
    });

    it('chains an exchange after the active leaf, and a branch beside a chosen parent becomes the active path', async () => {
      const [q1, a1] = await repository.append(conversation, [user('q1'), model('a1')]);
      const [q2, a2] = await repository.append(conversation, [user('q2'), model('a2')]);
      expect([q1.parentId, a1.parentId, q2.parentId, a2.parentId]).toEqual([null, q1.id, a1.id, q2.id]);
      expect(q2.siblingIds).toEqual([q2.id]);

      // An edit of q2: a sibling of it, following a1.
      const [q2b, a2b] = await repository.append(conversation, [user('q2 edited'), model('a2b')], { parentId: a1.id });
      expect(q2b.parentId).toBe(a1.id);
      expect(q2b.siblingIds).toEqual([q2.id, q2b.id]);
      expect(await path()).toEqual(['q1', 'a1', 'q2 edited', 'a2b']);
      expect(await repository.activeLeaf(conversation)).toBe(a2b.id);

      // A new first prompt: a sibling of q1.
      const [root2] = await repository.append(conversation, [user('again'), model('fresh')], { parentId: null });
      expect(root2.siblingIds).toEqual([q1.id, root2.id]);
      expect(await path()).toEqual(['again', 'fresh']);

      // Switching to q1 continues down the newest branch at each step.
      expect(await repository.activate(conversation, q1.id)).toBe(a2b.id);
      expect(await path()).toEqual(['q1', 'a1', 'q2 edited', 'a2b']);
      expect(await repository.activate(conversation, q2.id)).toBe(a2.id);
      expect(await path()).toEqual(['q1', 'a1', 'q2', 'a2']);
      // Not in this conversation: nothing changes.
      expect(await repository.activate('elsewhere', q1.id)).toBeNull();
      expect(await repository.activeLeaf(conversation)).toBe(a2.id);
    });

    it('pages the active path from its end, each message with its siblings', async () => {
      const [q1, a1] = await repository.append(conversation, [user('q1'), model('a1')]);
      const [a1b] = await repository.append(conversation, [model('a1b')], { parentId: q1.id });
      await repository.append(conversation, [user('q2'), model('a2')]);
      const first = (await repository.page(conversation, 2))!;
      expect(first.items.map((m) => m.content)).toEqual(['q2', 'a2']);
      expect(first.items[0].parentId).toBe(a1b.id);
      const second = (await repository.page(conversation, 2, first.nextBefore!))!;
      expect(second.items.map((m) => [m.content, m.siblingIds])).toEqual([
        ['q1', [q1.id]],
        ['a1b', [a1.id, a1b.id]],
      ]);
      expect(second.nextBefore).toBeNull();
      expect(await repository.page(conversation, 2, 999_999)).toBeNull();
    });

    it('reads a page by its own rows and their parents: no statement goes through the whole conversation', async () => {
      await repository.append(conversation, [user('q1'), model('a1')]);
      await repository.append(conversation, [user('q1 edited'), model('a1b')], { parentId: null });
      for (let i = 0; i < 20; i++) await repository.append(conversation, [user(`q${i + 2}`), model(`a${i + 2}`)]);
      // Every statement the pages run, as a new repository prepares them on the connection.
      const connection = (dataSource.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
      const prepare = connection.prepare.bind(connection);
      const prepared: string[] = [];
      jest.spyOn(connection, 'prepare').mockImplementation((sql: string) => {
        prepared.push(sql);
        return prepare(sql);
      });
      const reader = new MessageRepository(dataSource, new HotPathSql(dataSource, new WriteQueue(dataSource)));
      let before: number | null | undefined;
      const pages: string[][] = [];
      do {
        const page = (await reader.page(conversation, 15, before ?? undefined))!;
        pages.unshift(page.items.map((m) => `${m.content} ${m.siblingIds!.length}`));
        before = page.nextBefore;
      } while (before !== null);
      expect(pages.flat()).toEqual(['q1 edited 2', 'a1b 1', ...Array.from({ length: 20 }, (_, i) => [`q${i + 2} 1`, `a${i + 2} 1`]).flat()]);
      expect(prepared.length).toBeGreaterThan(0);
      for (const sql of prepared) {
        const plan = prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...Array.from(sql.matchAll(/\?/g), () => null))
          .map((step) => (step as { detail: string }).detail);
        // A search by the conversation alone reads all of its messages (the siblings' read did, ordered by id), as does a scan.
        expect({ sql, plan: plan.filter((detail) => /\(conversation_id=\?\)$|^SCAN (messages|m|MessageEntity)\b/.test(detail)) }).toEqual({ sql, plan: [] });
      }
    });

    it('walks the context up the path a page at a time, newest first, each row with its parent and status', async () => {
      const [q1, a1] = await repository.append(conversation, [user('q1'), model('a1')]);
      await repository.append(conversation, [model('other branch')], { parentId: q1.id });
      await repository.activate(conversation, a1.id);
      const [q2, a2] = await repository.append(conversation, [user('q2'), model('', 'streaming')]);
      const [q3] = await repository.append(conversation, [user('q3')]);
      const page = await repository.contextPath(conversation, q3.id, 2);
      expect(page.map((m) => [m.id, m.parentId, m.role, m.content, m.status])).toEqual([
        [q3.id, a2.id, 'user', 'q3', 'complete'],
        [a2.id, q2.id, 'model', '', 'streaming'],
      ]);
      const rest = await repository.contextPath(conversation, page[1].parentId!, 10);
      expect(rest.map((m) => m.content)).toEqual(['q2', 'a1', 'q1']);
      expect(rest.at(-1)!.parentId).toBeNull();
      expect(await repository.contextPath('another conversation', q3.id, 10)).toEqual([]);
    });
  });
});

describe('the message tree migration', () => {
  it('turns existing conversations into linear chains that end at their newest message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tree-migration-'));
    const path = join(dir, 'chat.sqlite');
    try {
      const before = await new DataSource({ ...databaseOptions({ type: 'sqlite', path }), migrations: migrations.slice(0, migrations.findIndex((m) => m.name === 'MessageTree1764100000000')) }).initialize();
      await runMigrations(before);
      const rows: [string, string, string][] = [
        ['a', 'user', 'q1'],
        ['a', 'model', 'a1'],
        ['b', 'user', 'other'],
        ['a', 'user', 'q2'],
        ['a', 'model', 'a2 kept'],
        ['a', 'model', 'a2 failed regeneration'],
      ];
      for (const [conversation, role, content] of rows) {
        await before.query(`INSERT INTO messages (conversation_id, role, content, status, timestamp, created_at) VALUES (?, ?, ?, 'complete', ?, ?)`, [
          conversation,
          role,
          content,
          nextTimestamp(),
          nextTimestamp(),
        ]);
      }
      await before.query(`INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('a', NULL, 'x', 'x'), ('b', NULL, 'x', 'x'), ('empty', NULL, 'x', 'x')`);
      await before.destroy();

      const after = await new DataSource(databaseOptions({ type: 'sqlite', path })).initialize();
      expect(await runMigrations(after)).toEqual(['MessageTree1764100000000']);
      const messages = await after.query<{ id: number; conversation_id: string; parent_id: number | null }[]>('SELECT id, conversation_id, parent_id FROM messages ORDER BY id');
      expect(messages.map((m) => [m.id, m.parent_id])).toEqual([
        [1, null],
        [2, 1],
        [3, null],
        [4, 2],
        [5, 4],
        [6, 5],
      ]);
      const conversations = await after.query<{ id: string; active_message_id: number | null }[]>('SELECT id, active_message_id FROM conversations ORDER BY id');
      expect(conversations).toEqual([
        { id: 'a', active_message_id: 6 },
        { id: 'b', active_message_id: 3 },
        { id: 'empty', active_message_id: null },
      ]);
      await after.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
