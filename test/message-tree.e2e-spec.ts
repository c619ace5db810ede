import { useE2eFixture } from './support/e2e-fixture.js';
import { countMessageRowsRead } from './support/rows-read.js';
import { type ConversationJson, type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

const DEFAULT_CONVERSATION = '00000000-0000-0000-0000-000000000000';

/**
 * Message trees (issue 15): edits and regenerations are branches, the active path is what a
 * conversation shows and what answers see, and PATCH activeMessageId switches between branches.
 */
describe('message trees', () => {
  const e2e = useE2eFixture({
    upstream: { echo: true },
    env: { OPENAI_MODEL: 'fake-model', UPSTREAM_RETRIES: '0', CONTEXT_MAX_TOKENS: '2000' },
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${e2e.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json');
    return { status: response.status, text, json: isJson ? (JSON.parse(text) as unknown) : undefined };
  };
  const create = async () => (await api('POST', '/api/conversations', {})).json as ConversationJson;

  /** Posts a prompt (after `parentId` when given); the stored prompt and the answer's id, from the delta stream. */
  async function ask(id: string, prompt: string, parentId?: number | null): Promise<{ prompt: MessageJson; answerId: number }> {
    const response = await api('POST', `/api/conversations/${id}/messages`, { prompt, ...(parentId !== undefined && { parentId }) });
    expect(response.status).toBe(200);
    const events = ndjson<DeltaEvent>(response.text);
    const start = events[0] as Extract<DeltaEvent, { type: 'start' }>;
    expect(events.at(-1)).toMatchObject({ type: 'done', message: { id: start.messageId, status: 'complete' } });
    return { prompt: start.userMessage, answerId: start.messageId };
  }

  async function regenerate(id: string, messageId?: number): Promise<Extract<DeltaEvent, { type: 'done' }>> {
    const response = await api('POST', `/api/conversations/${id}/regenerate`, messageId === undefined ? undefined : { messageId });
    expect(response.status).toBe(200);
    const done = ndjson<DeltaEvent>(response.text).at(-1) as Extract<DeltaEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    return done;
  }

  const path = async (id: string) => ((await api('GET', `/api/conversations/${id}/messages`)).json as { items: MessageJson[] }).items;
  const contents = async (id: string) => (await path(id)).map((m) => m.content);
  /** What the model was sent on its latest call, system message left out. */
  const lastContext = () => e2e.fake.requests.at(-1)!.body.messages.filter((m) => m.role !== 'system').map((m) => m.content);
  const activeLeaf = async (id: string) => ((await api('GET', `/api/conversations/${id}`)).json as ConversationJson).activeMessageId;

  it('edits a prompt in the middle and the first prompt: each edit is a branch that becomes the active path', async () => {
    const { id } = await create();
    const q1 = await ask(id, 'q1');
    const q2 = await ask(id, 'q2');
    const q3 = await ask(id, 'q3');
    expect(await contents(id)).toEqual(['q1', 're: q1', 'q2', 're: q2', 'q3', 're: q3']);
    expect(q2.prompt.parentId).toBe(q1.answerId);
    expect(q1.prompt).toMatchObject({ parentId: null, siblingIds: [q1.prompt.id] });

    // Edit q2: the new text follows q2's parent; the model sees the path above it, not q2 or q3.
    const edited = await ask(id, 'q2 edited', q2.prompt.parentId);
    expect(edited.prompt.siblingIds).toEqual([q2.prompt.id, edited.prompt.id]);
    expect(lastContext()).toEqual(['q1', 're: q1', 'q2 edited']);
    const afterMiddle = await path(id);
    expect(afterMiddle.map((m) => m.content)).toEqual(['q1', 're: q1', 'q2 edited', 're: q2 edited']);
    expect(afterMiddle[2]).toMatchObject({ parentId: q1.answerId, siblingIds: [q2.prompt.id, edited.prompt.id] });
    expect(afterMiddle[3].siblingIds).toEqual([edited.answerId]);
    expect(await activeLeaf(id)).toBe(edited.answerId);

    // Edit the first prompt: a new root.
    const first = await ask(id, 'q1 edited', null);
    expect(first.prompt).toMatchObject({ parentId: null, siblingIds: [q1.prompt.id, first.prompt.id] });
    expect(lastContext()).toEqual(['q1 edited']);
    expect(await contents(id)).toEqual(['q1 edited', 're: q1 edited']);

    // A prompt without parentId follows the active leaf.
    await ask(id, 'next');
    expect(lastContext()).toEqual(['q1 edited', 're: q1 edited', 'next']);

    // Back to the first version: down the newest branch at each step (the edited q2).
    const switched = await api('PATCH', `/api/conversations/${id}`, { activeMessageId: q1.prompt.id });
    expect(switched.status).toBe(200);
    expect(switched.json).toMatchObject({ id, activeMessageId: edited.answerId });
    expect(await contents(id)).toEqual(['q1', 're: q1', 'q2 edited', 're: q2 edited']);
    // And to the original q2, whose path goes on to q3.
    await api('PATCH', `/api/conversations/${id}`, { activeMessageId: q2.prompt.id });
    expect(await contents(id)).toEqual(['q1', 're: q1', 'q2', 're: q2', 'q3', 're: q3']);
    expect(await activeLeaf(id)).toBe(q3.answerId);
    // A prompt now continues that path.
    await ask(id, 'q4');
    expect(lastContext()).toEqual(['q1', 're: q1', 'q2', 're: q2', 'q3', 're: q3', 'q4']);
  });

  it('regenerates twice and switches back: every answer stays a sibling, the newest active', async () => {
    const { id } = await create();
    await ask(id, 'before');
    const { prompt, answerId: first } = await ask(id, 'question');
    e2e.fake.enqueue({ tokens: ['second'] }, { tokens: ['third'] });

    const second = await regenerate(id);
    expect(second.message).toMatchObject({ parentId: prompt.id, siblingIds: [first, second.message.id] });
    expect(lastContext()).toEqual(['before', 're: before', 'question']);
    expect(await contents(id)).toEqual(['before', 're: before', 'question', 'second']);

    // Regenerating a named answer (the first): another sibling of it.
    const third = await regenerate(id, first);
    expect(third.message.siblingIds).toEqual([first, second.message.id, third.message.id]);
    expect(await contents(id)).toEqual(['before', 're: before', 'question', 'third']);
    expect(await activeLeaf(id)).toBe(third.message.id);

    // Back to the first answer; the next prompt's context is that path.
    expect((await api('PATCH', `/api/conversations/${id}`, { activeMessageId: first })).json).toMatchObject({ activeMessageId: first });
    const shown = await path(id);
    expect(shown.map((m) => m.content)).toEqual(['before', 're: before', 'question', 're: question']);
    expect(shown[3].siblingIds).toEqual([first, second.message.id, third.message.id]);
    await ask(id, 'follow-up');
    expect(lastContext()).toEqual(['before', 're: before', 'question', 're: question', 'follow-up']);
  });

  it('GET /chat/ shows the default conversation’s active path, and POST /chat/ continues it', async () => {
    const seed = async (prompt: string) => (await fetch(`${e2e.url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }) })).text();
    const history = async () => ndjson<{ role: string; content: string }>(await (await fetch(`${e2e.url}/chat/`)).text()).map((l) => l.content);
    await seed('one');
    await seed('two');
    expect(await history()).toEqual(['one', 're: one', 'two', 're: two']);

    // An edit of "two" through the REST API, on the same conversation.
    const [, firstAnswer] = await path(DEFAULT_CONVERSATION);
    await ask(DEFAULT_CONVERSATION, 'two, edited', firstAnswer.id);
    expect(await history()).toEqual(['one', 're: one', 'two, edited', 're: two, edited']);
    await seed('three');
    expect(lastContext()).toEqual(['one', 're: one', 'two, edited', 're: two, edited', 'three']);
    expect(await history()).toEqual(['one', 're: one', 'two, edited', 're: two, edited', 'three', 're: three']);

    // Switching back shows the other branch on the seed route too.
    const [, , two] = (await path(DEFAULT_CONVERSATION)).slice(0, 3);
    await api('PATCH', `/api/conversations/${DEFAULT_CONVERSATION}`, { activeMessageId: two.siblingIds[0] });
    expect(await history()).toEqual(['one', 're: one', 'two', 're: two']);
  });

  it('pages the active path back with `before`, and only along it', async () => {
    const { id } = await create();
    const q1 = await ask(id, 'q1');
    await ask(id, 'q2');
    await ask(id, 'q2 edited', q1.answerId);
    await ask(id, 'q3');
    const first = (await api('GET', `/api/conversations/${id}/messages?limit=3`)).json as { items: MessageJson[]; nextBefore: number | null };
    expect(first.items.map((m) => m.content)).toEqual(['re: q2 edited', 'q3', 're: q3']);
    const second = (await api('GET', `/api/conversations/${id}/messages?limit=3&before=${first.nextBefore}`)).json as {
      items: MessageJson[];
      nextBefore: number | null;
    };
    expect(second.items.map((m) => m.content)).toEqual(['q1', 're: q1', 'q2 edited']);
    expect(second.nextBefore).toBeNull();
  });

  it('answers 404 for ids of another conversation and changes nothing', async () => {
    const mine = await create();
    const other = await create();
    const here = await ask(mine.id, 'mine');
    const there = await ask(other.id, 'other');
    const requests = e2e.fake.requests.length;

    const refusals = [
      await api('POST', `/api/conversations/${mine.id}/messages`, { prompt: 'x', parentId: there.answerId }),
      await api('POST', `/api/conversations/${mine.id}/messages`, { prompt: 'x', parentId: 999_999 }),
      await api('POST', `/api/conversations/${mine.id}/regenerate`, { messageId: there.answerId }),
      await api('PATCH', `/api/conversations/${mine.id}`, { activeMessageId: there.prompt.id }),
      await api('GET', `/api/conversations/${mine.id}/messages?before=${there.answerId}`),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(404);
      expect(refused.json).toEqual({ statusCode: 404, error: 'Not Found', message: expect.stringMatching(/^Message \d+ not found in conversation /) });
    }
    expect(e2e.fake.requests).toHaveLength(requests);
    expect(await contents(mine.id)).toEqual(['mine', 're: mine']);
    expect(await activeLeaf(mine.id)).toBe(here.answerId);
    expect(await contents(other.id)).toEqual(['other', 're: other']);
  });

  it('refuses a bad parentId, messageId or activeMessageId with 400, storing and asking nothing', async () => {
    const { id } = await create();
    const { prompt } = await ask(id, 'q');
    const rows = (await e2e.db.readMessages()).length;
    const requests = e2e.fake.requests.length;

    const prompted = await api('POST', `/api/conversations/${id}/messages`, { prompt: 'x', parentId: prompt.id });
    expect(prompted.status).toBe(400);
    expect(prompted.json).toMatchObject({ message: expect.stringMatching(/parentId \d+ is a prompt, not an answer.*edited prompt's own parentId/) });
    const regenerated = await api('POST', `/api/conversations/${id}/regenerate`, { messageId: prompt.id });
    expect(regenerated.status).toBe(400);
    expect(regenerated.json).toMatchObject({ message: expect.stringMatching(/messageId \d+ is a prompt, not an answer/) });

    for (const parentId of ['abc', 0, -1, 1.5, true, [1], 2 ** 31]) {
      const response = await api('POST', `/api/conversations/${id}/messages`, { prompt: 'x', parentId });
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^parentId must/) });
    }
    for (const body of [{ activeMessageId: 'x' }, { activeMessageId: null }, { activeMessageId: 0 }]) {
      const response = await api('PATCH', `/api/conversations/${id}`, body);
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ message: expect.stringMatching(/^activeMessageId must/) });
    }
    expect((await api('POST', `/api/conversations/${id}/regenerate`, { messageId: 'x' })).status).toBe(400);
    expect((await e2e.db.readMessages()).length).toBe(rows);
    expect(e2e.fake.requests).toHaveLength(requests);
  });

  it('documents the tree in /api/docs: parentId and siblingIds on messages, the routes that branch and switch, GET /api/models', async () => {
    const spec = (await api('GET', '/api/docs-json')).json as {
      paths: Record<string, Record<string, { description?: string; requestBody?: unknown }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(Object.keys(spec.components.schemas.MessageSchema.properties)).toEqual(expect.arrayContaining(['parentId', 'siblingIds']));
    expect(Object.keys(spec.components.schemas.ConversationSchema.properties)).toEqual(expect.arrayContaining(['activeMessageId', 'model', 'systemPrompt']));
    expect(Object.keys(spec.components.schemas.AskDto.properties)).toEqual(expect.arrayContaining(['prompt', 'parentId']));
    expect(Object.keys(spec.components.schemas.RegenerateDto.properties)).toEqual(['messageId']);
    expect(Object.keys(spec.components.schemas.UpdateConversationDto.properties)).toEqual(['title', 'model', 'systemPrompt', 'activeMessageId']);
    const conversation = spec.paths['/api/conversations/{id}'];
    expect(conversation.patch.description).toMatch(/activeMessageId .* newest leaf/);
    expect(spec.paths['/api/conversations/{id}/messages'].get.description).toMatch(/active path/);
    expect(spec.paths['/api/conversations/{id}/messages'].post.description).toMatch(/edited prompt's parentId/);
    expect(spec.paths['/api/conversations/{id}/regenerate'].post.description).toMatch(/sibling/);
    expect(spec.paths['/api/models'].get.description).toMatch(/OPENAI_MODELS/);
  });

  it('reads the same rows for an answer whatever the branches around its path', async () => {
    const rowsRead = countMessageRowsRead(e2e.app);
    const plain = await create();
    const branched = await create();
    await seedChain(plain.id, 300, 0);
    await seedChain(branched.id, 300, 1000);

    let before = rowsRead.count;
    await ask(plain.id, 'plain');
    const plainRows = rowsRead.count - before;
    const plainContext = lastContext();
    before = rowsRead.count;
    await ask(branched.id, 'branched');
    const branchedRows = rowsRead.count - before;

    // The same path, so the same context and the same rows: the branches are never read.
    expect(lastContext().slice(0, -1)).toEqual(plainContext.slice(0, -1));
    expect(branchedRows).toBe(plainRows);
    expect(plainRows).toBeLessThanOrEqual(plainContext.length + 64);
  });

  /**
   * `turns` exchanges as a chain (the active path), then `branches` edits hanging off its last
   * answers (a prompt and its answer each, written after the chain, as a user editing back and
   * forth would leave them), the chain's end staying the active leaf.
   */
  async function seedChain(conversationId: string, turns: number, branches: number): Promise<void> {
    const insert = `INSERT INTO messages (conversation_id, parent_id, role, content, status, timestamp, created_at)
       VALUES (?, ?, ?, ?, 'complete', '2020-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z')`;
    const statements = [];
    const last = `(SELECT MAX(id) FROM messages WHERE conversation_id = '${conversationId}')`;
    for (let i = 0; i < turns; i++) {
      statements.push(
        { sql: insert.replace('?, ?, ?', `?, ${last}, ?`), params: [conversationId, 'user', `question ${i} ${'x'.repeat(100)}`] },
        { sql: insert.replace('?, ?, ?', `?, ${last}, ?`), params: [conversationId, 'model', `answer ${i} ${'y'.repeat(200)}`] },
      );
    }
    statements.push({ sql: `UPDATE conversations SET active_message_id = ${last} WHERE id = ?`, params: [conversationId] });
    // Each branch: an edited prompt following one of the last 20 answers, and its answer.
    const answerOf = (k: number) => `(SELECT MAX(id) - ${2 * k} FROM messages WHERE conversation_id = '${conversationId}' AND role = 'model' AND content LIKE 'answer%')`;
    for (let b = 0; b < branches; b++) {
      statements.push(
        { sql: insert.replace('?, ?, ?', `?, ${answerOf(b % 20)}, ?`), params: [conversationId, 'user', `branch ${b}`] },
        { sql: insert.replace('?, ?, ?', `?, ${last}, ?`), params: [conversationId, 'model', `branch answer ${b}`] },
      );
    }
    await e2e.db.execute(statements);
  }
});
