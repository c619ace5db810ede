/// <reference lib="dom" />
// page.evaluate and waitForFunction bodies run in the browser.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { useE2eFixture } from './support/e2e-fixture.js';
import { wordTokens } from './support/fake-openai.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CHAT_TESTS_REQUIRE_ALL === '1') {
    throw new Error(`Browser tests are required here, but there is no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  }
  console.warn(`\n*** SKIPPING the browser tests: no Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium ***\n`);
}
const describeInBrowser = hasChromium ? describe : describe.skip;

// Outside the describe: jest runs its after-hooks first, so Chromium closes before the app it talks to.
const e2e = useE2eFixture({
  scope: 'file',
  upstream: { tokens: wordTokens(8), tokenDelayMs: 5 },
  env: { OPENAI_MODEL: 'fake-model', OPENAI_MODELS: 'fake-model,big-model', UPSTREAM_RETRIES: '0', AGENT_TOOLS: 'current_time' },
});

describeInBrowser('the chat page in Chromium', () => {
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 720 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Every request the page makes outside the app is recorded and refused.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(e2e.url)) return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept(dialog.type() === 'prompt' ? 'Renamed chat' : undefined));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  const answers = () => page.locator('.message.model .body');
  const lastAnswer = () => answers().last();
  const idle = () => page.waitForSelector('#prompt:not([disabled])');

  async function send(text: string): Promise<void> {
    await page.locator('#prompt').fill(text);
    await page.locator('#prompt').press('Enter');
  }

  it('sends with Enter, streams the answer in, and comes back to the input', async () => {
    const tokens = wordTokens(60);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
    await page.goto(`${e2e.url}/`);
    await page.locator('#prompt').click();
    await page.keyboard.type('first line');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second line');
    await page.keyboard.press('Enter');

    // Part of the answer is on screen while the rest is still coming.
    await page.waitForFunction(() => (document.querySelector('.message.model .body')?.textContent ?? '').includes('w5'));
    const partial = (await lastAnswer().textContent()) ?? '';
    expect(partial.length).toBeLessThan(tokens.join('').trim().length);
    expect(await page.locator('#prompt').isDisabled()).toBe(true);
    expect(await page.locator('#stop').isVisible()).toBe(true);

    await idle();
    expect((await lastAnswer().textContent())?.trim()).toBe(tokens.join('').trim());
    expect(await page.locator('.message.user .body').last().textContent()).toBe('first line\nsecond line');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    expect(page.url()).toMatch(/\?c=[0-9a-f-]{36}$/);
    expect(await page.locator('#conversation-list a').first().textContent()).toBe('first line');
    await page.waitForFunction(() => document.querySelector('#chat-title')?.textContent === 'first line');
  }, 60_000);

  it('shows the conversation again after a reload', async () => {
    const url = page.url();
    await page.reload();
    await page.waitForSelector('.message.model');
    expect(page.url()).toBe(url);
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['first line\nsecond line']);
    expect((await lastAnswer().textContent())?.trim()).toBe(wordTokens(60).join('').trim());
  });

  it('switches between two conversations, with back and forward', async () => {
    const firstUrl = page.url();
    await page.locator('#new-chat').click();
    await send('another topic');
    await idle();
    const secondUrl = page.url();
    expect(secondUrl).not.toBe(firstUrl);
    await page.waitForFunction(() => document.querySelectorAll('#conversation-list li').length === 2);

    await page.locator('#conversation-list a', { hasText: 'first line' }).click();
    await page.waitForSelector('.message.user >> text=second line');
    expect(page.url()).toBe(firstUrl);
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['first line\nsecond line']);

    await page.goBack();
    await page.waitForSelector('.message.user >> text=another topic');
    expect(page.url()).toBe(secondUrl);
    await page.goForward();
    await page.waitForSelector('.message.user >> text=second line');
  });

  it('renames and deletes a conversation from its menu in the sidebar', async () => {
    await page.locator('#conversation-list li', { hasText: 'another topic' }).getByRole('button', { name: /Actions for/ }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    await page.waitForSelector('#conversation-list a >> text=Renamed chat');
    await page.locator('#conversation-list li', { hasText: 'Renamed chat' }).getByRole('button', { name: /Actions for/ }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.waitForFunction(() => !document.body.textContent?.includes('Renamed chat'));
    expect(await page.locator('#conversation-list li').count()).toBe(1);
    expect(await page.locator('#chat-title').textContent()).toBe('first line'); // the open one stays open
  });

  it('Stop ends the answer mid-way; the partial answer stays, marked, after a reload', async () => {
    e2e.fake.enqueue({ tokens: wordTokens(300), tokenDelayMs: 20 });
    await page.locator('#new-chat').click();
    await send('a long one');
    await page.waitForFunction(() => (document.querySelector('.message.model .body')?.textContent ?? '').includes('w10'));
    await page.locator('#stop').click();
    await idle();
    await expect(e2e.fake.requests.at(-1)!.closed).resolves.toBeUndefined();
    expect(e2e.fake.requests.at(-1)!.aborted).toBe(true);

    await page.reload();
    await page.waitForSelector('.message.model .note');
    expect(await page.locator('.message.model .note').textContent()).toMatch(/Stopped/);
    const shown = (await lastAnswer().textContent()) ?? '';
    expect(shown).toMatch(/^w0 w1 w2/);
    expect(shown).not.toContain('w299');
    const stored = (await e2e.db.readMessages()).filter((r) => r.role === 'model').at(-1)!;
    expect(stored.status).toBe('interrupted');
  }, 60_000);

  // The answers below run on the server for seconds (slow fake replies), so that a reload, a
  // second tab or a switch lands in the middle of them; the tests wait for words, not for time.
  const answerText = (p: Page = page) => p.evaluate(() => document.querySelector('.message.model:last-child .body')?.textContent ?? '');
  const showsWord = (p: Page, word: string) =>
    p.waitForFunction((w) => (document.querySelector('.message.model:last-child .body')?.textContent ?? '').split(/\s+/).includes(w), word);
  const storedAnswer = async () => (await e2e.db.readMessages()).filter((r) => r.role === 'model').at(-1)!;

  it('after a reload mid-answer, shows the text so far and follows the answer live to its end', async () => {
    const tokens = wordTokens(200);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
    await page.locator('#new-chat').click();
    await send('keep talking');
    await showsWord(page, 'w10');
    await page.reload();

    // Reattached: the text so far at once, the busy state and Stop, then words that came after the reload.
    await page.waitForSelector('.message.model[aria-busy="true"]');
    const partial = await answerText();
    expect(partial).toMatch(/^w0 w1 w2 /);
    expect(partial).not.toContain('w199');
    expect(await page.locator('#prompt').isDisabled()).toBe(true);
    expect(await page.locator('#stop').isVisible()).toBe(true);
    const later = `w${Number(/w(\d+)\s*$/.exec(partial)![1]) + 5}`;
    await showsWord(page, later);

    await idle();
    expect((await answerText()).trim()).toBe(tokens.join('').trim());
    expect(await page.locator('.message.model[aria-busy]').count()).toBe(0);
    expect(await page.locator('.message.model .note').count()).toBe(0);
    // The prompt once, from the message list: the resumed stream's own copy is not shown again.
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['keep talking']);
    expect(await page.locator('.message.model').count()).toBe(1);
    const stored = await storedAnswer();
    expect([stored.status, stored.content]).toEqual(['complete', tokens.join('')]);
    expect(e2e.fake.requests.at(-1)!.aborted).toBe(false);
  }, 60_000);

  it('a second tab opened mid-answer sees the answer stream to its end', async () => {
    const tokens = wordTokens(200);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
    await page.locator('#new-chat').click();
    await send('two tabs');
    await showsWord(page, 'w10');
    const other = await context.newPage();
    other.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await other.goto(page.url());
      await other.waitForSelector('.message.model[aria-busy="true"]');
      expect(await other.locator('#stop').isVisible()).toBe(true);
      const partial = await answerText(other);
      expect(partial).not.toContain('w199');
      await showsWord(other, `w${Number(/w(\d+)\s*$/.exec(partial)![1]) + 5}`);

      await other.waitForSelector('#prompt:not([disabled])');
      await idle();
      expect((await answerText(other)).trim()).toBe(tokens.join('').trim());
      expect((await answerText(page)).trim()).toBe(tokens.join('').trim());
      expect(await other.locator('.message.user .body').allTextContents()).toEqual(['two tabs']);
      expect(await other.locator('.message.model').count()).toBe(1);
      expect((await storedAnswer()).status).toBe('complete');
    } finally {
      await other.close();
    }
  }, 60_000);

  it('a tab already open on the conversation catches up when it comes back to the front, and follows the answer', async () => {
    const tokens = wordTokens(200);
    await page.locator('#new-chat').click();
    await send('first');
    await idle();
    const other = await context.newPage();
    other.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await other.goto(page.url());
      await other.waitForSelector('.message.model[data-status="complete"]');
      e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
      await send('asked in the first tab');
      await showsWord(page, 'w10');
      expect(await other.locator('.message.user .body').allTextContents()).toEqual(['first']);
      // What the browser does when the user switches back to that tab.
      await other.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await other.waitForSelector('.message.model[aria-busy="true"]');
      await other.waitForSelector('#prompt:not([disabled])');
      await idle();
      expect(await other.locator('.message.user .body').allTextContents()).toEqual(['first', 'asked in the first tab']);
      expect((await answerText(other)).trim()).toBe(tokens.join('').trim());
    } finally {
      await other.close();
    }
  }, 60_000);

  it('switching away mid-answer leaves it running, and switching back follows it again', async () => {
    const tokens = wordTokens(200);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
    await page.locator('#new-chat').click();
    await send('switch away');
    await showsWord(page, 'w10');
    const url = page.url();
    await page.locator('#conversation-list a', { hasText: 'keep talking' }).click();
    await page.waitForSelector('.message.user >> text=keep talking');
    expect(await page.locator('#prompt').isDisabled()).toBe(false);
    expect(e2e.fake.requests.at(-1)!.aborted).toBe(false);

    await page.goBack();
    expect(page.url()).toBe(url);
    await page.waitForSelector('.message.model[aria-busy="true"]');
    await idle();
    expect((await answerText()).trim()).toBe(tokens.join('').trim());
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['switch away']);
    const stored = await storedAnswer();
    expect([stored.status, stored.content]).toEqual(['complete', tokens.join('')]);
    expect(e2e.fake.requests.at(-1)!.aborted).toBe(false);
  }, 60_000);

  it('an answer that ends before the page reattaches is shown as stored: no stream, the messages once more', async () => {
    const tokens = wordTokens(40);
    e2e.fake.enqueue({ tokens, tokenDelayMs: 25 });
    await page.locator('#new-chat').click();
    await send('over before the reattach');
    await showsWord(page, 'w5');
    // The page's reattach request is held until the answer is stored: the server then has nothing to stream (204).
    let reattaches = 0;
    await page.route('**/api/conversations/*/stream', async (route) => {
      reattaches++;
      while ((await storedAnswer()).status === 'streaming') await new Promise((resolve) => setTimeout(resolve, 50));
      await route.continue();
    });
    const listed: string[] = [];
    const onRequest = (request: { url(): string }) => void (request.url().includes('/messages?') && listed.push(request.url()));
    page.on('request', onRequest);
    try {
      await page.reload();
      await page.waitForSelector('.message.model:last-child[data-status="complete"]');
      expect((await answerText()).trim()).toBe(tokens.join('').trim());
      await idle();
      expect(reattaches).toBe(1);
      expect(listed).toHaveLength(2);
      expect(await page.locator('.message.user .body').allTextContents()).toEqual(['over before the reattach']);
      expect(await page.locator('#error').isHidden()).toBe(true);
    } finally {
      page.off('request', onRequest);
      await page.unroute('**/api/conversations/*/stream');
    }
  }, 60_000);

  it('Stop after a reload stops the answer on the server: stored interrupted, as shown', async () => {
    e2e.fake.enqueue({ tokens: wordTokens(300), tokenDelayMs: 20 });
    await page.locator('#new-chat').click();
    await send('stop me after a reload');
    await showsWord(page, 'w10');
    await page.reload();
    await page.waitForSelector('.message.model[aria-busy="true"]');
    const partial = await answerText();
    await showsWord(page, `w${Number(/w(\d+)\s*$/.exec(partial)![1]) + 5}`); // live again first
    await page.locator('#stop').click();
    await idle();
    await expect(e2e.fake.requests.at(-1)!.closed).resolves.toBeUndefined();
    expect(e2e.fake.requests.at(-1)!.aborted).toBe(true);

    expect(await page.locator('.message.model .note').textContent()).toMatch(/Stopped/);
    const shown = await answerText();
    expect(shown).not.toContain('w299');
    const stored = await storedAnswer();
    expect(stored.status).toBe('interrupted');
    expect(stored.content.trim()).toBe(shown.trim());
    expect(await page.locator('#error').isHidden()).toBe(true);
  }, 60_000);

  it('runs nothing and loads nothing from a hostile answer', async () => {
    e2e.fake.enqueue({
      tokens: [
        'Look: <img src=x onerror="window.__pwned=1"> ',
        '<script>window.__pwned=2</script> ',
        '[click me](javascript:window.__pwned=3) ',
        '<a href="javascript:window.__pwned=4">or me</a> ',
        '![remote](https://remote.example/track.png) ',
        '<iframe src="https://remote.example/"></iframe> ',
        '<svg onload="window.__pwned=5"></svg> **done**',
      ],
    });
    await page.locator('#new-chat').click();
    await send('show me something nasty');
    await idle();
    const answer = lastAnswer();
    await answer.locator('a', { hasText: 'click me' }).click();
    await answer.locator('a', { hasText: 'or me' }).click();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await answer.locator('script, iframe, [onerror], [onload]').count()).toBe(0);
    expect(await answer.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await answer.locator('img[src*="remote.example"]').count()).toBe(0);
    expect(await answer.locator('a', { hasText: '[image: remote]' }).getAttribute('rel')).toContain('noopener');
    expect(await answer.locator('strong').textContent()).toBe('done');
  });

  it('renders markdown with highlighted code', async () => {
    const markdown = [
      'Here is a **TypeScript** function and a list:\n\n',
      '```ts\nexport function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n```\n\n',
      '- streams token by token\n- sanitised after rendering\n- works offline\n\n',
      'See [the docs](https://docs.nestjs.com) for more.',
    ];
    e2e.fake.enqueue({ tokens: markdown, tokenDelayMs: 30 });
    await page.locator('#new-chat').click();
    await send('Show me some TypeScript');
    await idle();
    const answer = lastAnswer();
    expect(await answer.locator('pre code.hljs span.hljs-keyword').first().textContent()).toBe('export');
    expect(await answer.locator('li').count()).toBe(3);
    expect(await answer.locator('a', { hasText: 'the docs' }).getAttribute('target')).toBe('_blank');
  });

  it('edits a prompt (2/2), switches to 1/2 and back, regenerates, copies a code block, and picks a model', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.url });
    const code = 'export function add(a: number, b: number): number {\n  return a + b;\n}';
    e2e.fake.enqueue(
      { tokens: ['Here is one:\n\n', '```ts\nfunction add(a, b) {\n  return a + b;\n}\n```\n'] },
      { tokens: ['Typed, ', 'as asked:\n\n', `\`\`\`ts\n${code}\n\`\`\`\n`] },
      { tokens: ['With types:\n\n', `\`\`\`ts\n${code}\n\`\`\`\n`, '\nCall it as `add(2, 3)`.'] },
    );
    await page.locator('#new-chat').click();
    await send('Write an add function');
    await idle();
    // The model that answered, with the token usage on hover.
    const info = page.locator('.message.model .answer-info').last();
    expect(await info.textContent()).toBe('fake-model');
    expect(await info.getAttribute('title')).toMatch(/^\d+ prompt \+ \d+ completion tokens$/);

    // Edit the prompt in place: a second version, with its own answer.
    const prompt = page.locator('.message.user').last();
    await prompt.getByRole('button', { name: /Edit this prompt/ }).click();
    await prompt.locator('.editor textarea').fill('Write a typed add function');
    await prompt.getByRole('button', { name: 'Save' }).click();
    await idle();
    await page.waitForFunction(() => document.querySelector('.message.user .position')?.textContent === '2/2');
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['Write a typed add function']);
    expect(await lastAnswer().textContent()).toContain('Typed, as asked');
    expect(e2e.fake.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual(['Write a typed add function']);

    // To the first version and back.
    await page.locator('.message.user').getByRole('button', { name: 'Previous version' }).click();
    await page.waitForFunction(() => document.querySelector('.message.user .position')?.textContent === '1/2');
    expect(await page.locator('.message.user .body').allTextContents()).toEqual(['Write an add function']);
    expect(await lastAnswer().textContent()).toContain('Here is one');
    await page.locator('.message.user').getByRole('button', { name: 'Next version' }).click();
    await page.waitForFunction(() => document.querySelector('.message.user .position')?.textContent === '2/2');
    expect(await lastAnswer().textContent()).toContain('Typed, as asked');

    // Regenerate the answer: a second version of it.
    await page.locator('.message.model').last().getByRole('button', { name: /Regenerate this answer/ }).click();
    await idle();
    await page.waitForFunction(() => document.querySelector('.message.model:last-child .position')?.textContent === '2/2');
    expect(await lastAnswer().textContent()).toContain('With types');
    expect(await page.locator('.message').count()).toBe(2);

    // Copy the code block: the code as written, without the highlighting.
    await lastAnswer().locator('.copy-code').click();
    await page.waitForFunction(() => document.querySelector('.message.model:last-child .copy-code')?.textContent === 'Copied');
    expect((await page.evaluate(() => navigator.clipboard.readText())).trim()).toBe(code);
    // And a whole answer, as markdown.
    await page.locator('.message.model').last().getByRole('button', { name: 'Copy answer' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('Call it as `add(2, 3)`.');

    // Pick a model for this conversation: the next answer comes from it, and says so.
    const conversationId = new URL(page.url()).searchParams.get('c')!;
    const patched = page.waitForResponse((r) => r.url().endsWith(`/api/conversations/${conversationId}`) && r.request().method() === 'PATCH');
    await page.locator('#model-picker').selectOption('big-model');
    expect((await patched).status()).toBe(200);
    e2e.fake.enqueue({ tokens: ['From ', 'the ', 'big ', 'model.'] });
    await send('And which model are you?');
    await idle();
    expect(e2e.fake.requests.at(-1)!.body.model).toBe('big-model');
    expect(await page.locator('.message.model .answer-info').last().textContent()).toBe('big-model');
    await page.reload();
    await page.waitForSelector('.message.model .answer-info');
    expect(await page.locator('#model-picker').inputValue()).toBe('big-model');
    expect(await page.locator('.message .position').allTextContents()).toEqual(['2/2', '2/2']);
  }, 60_000);

  it('groups conversations by last activity and filters them by title', async () => {
    const conversations = ((await (await fetch(`${e2e.url}/api/conversations?limit=100`)).json()) as { items: { id: string; title: string }[] }).items;
    const day = 86_400_000;
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString().replace('Z', '000Z');
    const move = (title: string, updatedAt: string) => ({
      sql: 'UPDATE conversations SET updated_at = ? WHERE id = ?',
      params: [updatedAt, conversations.find((c) => c.title === title)!.id],
    });
    await e2e.db.execute([move('first line', ago(day)), move('a long one', ago(3 * day)), move('keep talking', '2020-01-01T12:00:00.000000Z')]);
    await page.reload();
    await page.waitForSelector('#conversation-list .group');
    expect(await page.locator('#conversation-list .group h2').allTextContents()).toEqual(['Today', 'Yesterday', 'Previous 7 days', 'Older']);
    expect(await page.locator('#conversation-list .group', { hasText: 'Yesterday' }).locator('a').allTextContents()).toEqual(['first line']);

    await page.locator('#conversation-filter').fill('ADD FUNC');
    await page.waitForFunction(() => document.querySelectorAll('#conversation-list li').length === 1);
    expect(await page.locator('#conversation-list a').allTextContents()).toEqual(['Write an add function']);
    await page.locator('#conversation-filter').fill('nothing like this');
    await page.waitForSelector('#conversation-list .empty');
    await page.locator('#conversation-filter').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#conversation-list li').length > 4);
    await page.locator('#conversation-filter').blur();
    // The README's screenshot is taken here, by this run's Chromium, when asked for.
    if (process.env.UPDATE_SCREENSHOT === '1') await page.screenshot({ path: join('docs', 'screenshot.png') });
  });

  it('shows tool calls as blocks (running, then done or failed), expanded: arguments and result or error, as text', async () => {
    e2e.fake.enqueue(
      {
        tokens: ['Checking the clock. '],
        toolCalls: [
          { name: 'current_time', arguments: {}, id: 'call_clock' },
          { name: 'current_time', arguments: { note: '<img src=x onerror=alert(1)>' }, id: 'call_bad' },
        ],
      },
      { tokens: ['It ', 'is ', 'late.'], firstTokenDelayMs: 400 },
    );
    await page.locator('#new-chat').click();
    await send('what time is it?');
    const blocks = lastAnswer().locator('details.tool');
    await page.waitForFunction(() => document.querySelectorAll('details.tool:not([data-state="running"])').length === 2);
    await blocks.first().locator('summary').click(); // opened while the answer still streams: stays open as it re-renders
    await idle();
    expect(await blocks.evaluateAll((all) => all.map((d) => [d.getAttribute('data-state'), (d as HTMLDetailsElement).open]))).toEqual([
      ['done', true],
      ['failed', false],
    ]);
    expect(await blocks.locator('summary code').allTextContents()).toEqual(['current_time', 'current_time']);
    const [args, result] = await blocks.first().locator('pre').allTextContents();
    expect(JSON.parse(args)).toEqual({});
    expect(JSON.parse(result)).toMatchObject({ timeZone: expect.any(String) });
    const [badArgs, error] = await blocks.last().locator('pre').allTextContents();
    expect(JSON.parse(badArgs)).toEqual({ note: '<img src=x onerror=alert(1)>' });
    expect(error).toMatch(/^Invalid arguments/);
    expect(await lastAnswer().locator('img').count()).toBe(0); // the arguments' markup stayed text
    expect((await lastAnswer().textContent()) ?? '').toContain('It is late.');
    // After a reload, from the stored parts.
    await page.reload();
    await page.waitForSelector('details.tool[data-state="failed"]');
    expect(await page.locator('.message.model details.tool').evaluateAll((all) => all.map((d) => d.getAttribute('data-state')))).toEqual(['done', 'failed']);
  });

  it('shows an upstream failure with the server message, and Retry gets an answer', async () => {
    e2e.fake.enqueue({ status: 500 }, { tokens: ['second ', 'try'] });
    await page.locator('#new-chat').click();
    await send('this will fail');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.locator('#error-text').textContent()).toMatch(/HTTP 500/);
    await page.locator('#retry').click();
    await idle();
    await page.waitForFunction(() => document.querySelector('#error')?.hasAttribute('hidden'));
    expect((await lastAnswer().textContent())?.trim()).toBe('second try');
    await page.reload();
    await page.waitForSelector('.message.model');
    expect(await page.locator('.message').count()).toBe(2); // the failed answer is a sibling, one switch away
    expect(await page.locator('.message.model .position').textContent()).toBe('2/2');
  });

  it('says when the offline model answers', async () => {
    expect(await page.locator('#offline-banner').isHidden()).toBe(true);
    const offlineDb = await e2e.database('offline');
    const offline = await e2e.startAnother({ DATABASE_URL: offlineDb.url, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined });
    try {
      const other = await context.newPage();
      await context.route(`${offline.url}/**`, (route) => route.continue());
      await other.goto(`${offline.url}/`);
      await other.waitForSelector('#offline-banner:not([hidden])');
      await other.waitForFunction(() => document.querySelector<HTMLSelectElement>('#model-picker')?.value === 'offline');
      await other.close();
    } finally {
      await offline.close();
      await offlineDb.drop();
    }
  });

  it('in AUTH_MODE=cookie, works on its own cookie, and another browser sees none of its chats', async () => {
    const cookieDb = await e2e.database('cookie');
    const cookieApp = await e2e.startAnother({
      OPENAI_BASE_URL: e2e.fake.baseURL,
      OPENAI_MODEL: 'fake-model',
      DATABASE_URL: cookieDb.url,
      AUTH_MODE: 'cookie',
      SESSION_SECRET: 'browser-test-secret-0123456789abcdef',
    });
    const otherProfile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    let other: BrowserContext | undefined;
    try {
      await context.route(`${cookieApp.url}/**`, (route) => route.continue());
      const mine = await context.newPage();
      await mine.goto(`${cookieApp.url}/`);
      e2e.fake.enqueue({ tokens: ['private ', 'answer'] });
      await mine.locator('#prompt').fill('my private question');
      await mine.locator('#prompt').press('Enter');
      await mine.waitForFunction(() => document.querySelector('.message.model .body')?.textContent?.trim() === 'private answer');
      await mine.waitForSelector('#prompt:not([disabled])');
      expect((await context.cookies(cookieApp.url)).map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['chat_session', true, 'Lax']]);
      await mine.reload();
      await mine.waitForSelector('#conversation-list a');
      expect(await mine.locator('#conversation-list a').first().textContent()).toBe('my private question');
      await mine.close();

      other = await chromium.launchPersistentContext(otherProfile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const theirs = other.pages()[0] ?? (await other.newPage());
      const listed = theirs.waitForResponse((r) => r.url().includes('/api/conversations'));
      await theirs.goto(`${cookieApp.url}/`);
      expect(((await (await listed).json()) as { items: unknown[] }).items).toEqual([]);
      expect(await theirs.locator('#conversation-list a').count()).toBe(0);
      expect(await theirs.content()).not.toContain('my private question');
    } finally {
      await other?.close();
      rmSync(otherProfile, { recursive: true, force: true });
      await cookieApp.close();
      await cookieDb.drop();
    }
  });
});
