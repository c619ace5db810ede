import { Global, Module } from '@nestjs/common';
import { MCP_TOOL_SOURCE_OPTIONS, McpToolSource, type McpToolSourceOptions } from '../src/tools/mcp/mcp-tool-source.js';
import { useE2eFixture } from './support/e2e-fixture.js';
import type { RecordedMessage } from './support/fake-openai.js';
import { type McpConfigFile, stdioTestServerEntry, writeMcpConfig } from './support/mcp-config-file.js';
import { McpHttpTestServer } from './support/mcp-http-server.js';
import { type DeltaEvent, type MessageJson, ndjson } from './support/streams.js';

/**
 * The driver's reconnect backoff (1 s, doubling to 30 s) shortened through its options token, as
 * an integrator would provide it: a server back on its port is reconnected within 200 ms, so the
 * bounded wait below is never near its limit however late the restart comes.
 */
@Global()
@Module({
  providers: [{ provide: MCP_TOOL_SOURCE_OPTIONS, useValue: { reconnectInitialMs: 50, reconnectMaxMs: 200 } satisfies McpToolSourceOptions }],
  exports: [MCP_TOOL_SOURCE_OPTIONS],
})
class FastMcpReconnectModule {}

/** Polls `check` until it holds (10 s at most): for what the app does in the background, such as a reconnection. */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** MCP servers from MCP_CONFIG in the running app: offered as <server>_<tool>, called through the tool loop. */
describe('agent tools from MCP servers', () => {
  const e2e = useE2eFixture({ upstream: { tokens: ['Done.'] }, autoStart: false, env: { UPSTREAM_RETRIES: '0' } });

  // An inner block, so these after-hooks run before the fixture's teardown (jest runs a block's own
  // after-hooks in the order they were added, inner blocks first): the app is closed while its MCP
  // servers still answer, so it ends its sessions and its stdio children cleanly, and only then do
  // the servers go.
  describe('in the app', () => {
    let server: McpHttpTestServer | undefined;
    let config: McpConfigFile | undefined;
    afterEach(async () => {
      try {
        await e2e.stop();
      } finally {
        await server?.stop();
        server = undefined;
        config?.remove();
        config = undefined;
      }
    });

    const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const newConversation = async () => ((await (await fetch(`${e2e.url}/api/conversations`, json({}))).json()) as { id: string }).id;
    const ask = async (id: string, prompt: string) => {
      const response = await fetch(`${e2e.url}/api/conversations/${id}/messages`, json({ prompt }));
      expect(response.status).toBe(200);
      return ndjson<DeltaEvent>(await response.text());
    };
    const messages = async (id: string) => ((await (await fetch(`${e2e.url}/api/conversations/${id}/messages`)).json()) as { items: MessageJson[] }).items;
    const offeredIn = async (n: number) => (await e2e.fake.request(n)).body.tools?.map((t) => t.function.name) ?? [];
    const toolMessages = (sent: readonly RecordedMessage[]) => sent.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, m.content]);
    const results = (events: DeltaEvent[]) => events.filter((e): e is Extract<DeltaEvent, { type: 'tool-result' }> => e.type === 'tool-result');
    const toolErrors = (events: DeltaEvent[]) => events.filter((e): e is Extract<DeltaEvent, { type: 'tool-error' }> => e.type === 'tool-error');

    it('an MCP tool (HTTP server and stdio server) is offered as <server>_<tool>, called through the app, and its result reaches the next model call', async () => {
      server = await McpHttpTestServer.start();
      config = writeMcpConfig({ calc: { url: server.url }, local: stdioTestServerEntry() });
      await e2e.start({ MCP_CONFIG: config.path });
      e2e.fake.enqueue(
        {
          tokens: [],
          toolCalls: [
            { name: 'calc_add', arguments: { a: 2, b: 40 }, id: 'c_add' },
            { name: 'local_echo', arguments: { text: 'hi from stdio' }, id: 'c_echo' },
          ],
        },
        { tokens: ['42, and ', 'hi.'] },
      );
      const id = await newConversation();
      const events = await ask(id, 'add and echo');

      expect(await offeredIn(1)).toEqual(expect.arrayContaining(['calc_add', 'calc_echo', 'local_add', 'local_echo', 'local_pid']));
      expect(events.filter((e) => e.type === 'tool-call')).toEqual([
        { type: 'tool-call', toolCallId: 'c_add', toolName: 'calc_add', input: { a: 2, b: 40 } },
        { type: 'tool-call', toolCallId: 'c_echo', toolName: 'local_echo', input: { text: 'hi from stdio' } },
      ]);
      expect(Object.fromEntries(results(events).map((e) => [e.toolCallId, e.output]))).toEqual({ c_add: '42', c_echo: 'hi from stdio' });
      expect(toolErrors(events)).toEqual([]);
      // The server's own name, not the prefixed one, reached the HTTP server.
      expect(server.calls.map((c) => [c.tool, c.args])).toEqual([['add', { a: 2, b: 40 }]]);

      const second = (await e2e.fake.request(2)).body;
      expect(second.messages.at(-3)?.tool_calls?.map((c) => [c.id, c.function.name])).toEqual([
        ['c_add', 'calc_add'],
        ['c_echo', 'local_echo'],
      ]);
      expect(toolMessages(second.messages)).toEqual([
        ['c_add', '42'],
        ['c_echo', 'hi from stdio'],
      ]);
      expect(events.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });

      const [, answer] = await messages(id);
      expect(answer.content).toBe('42, and hi.');
      expect(answer.parts.map((p) => p.type)).toEqual(['tool-call', 'tool-call', 'tool-result', 'tool-result', 'text']);
      // The two servers answer in parallel, so the results are stored in whichever order they came.
      const stored = answer.parts.filter((p) => p.type === 'tool-result').map((p) => `${p.toolCallId}: ${p.output}`);
      expect(stored.sort()).toEqual(['c_add: 42', 'c_echo: hi from stdio']);
    });

    it('a server down at boot does not fail the start; its tools are left out, and appear once it is back (reconnect)', async () => {
      // A port that was just listened on and is now closed: connections to it are refused.
      server = await McpHttpTestServer.start();
      await server.stop();
      config = writeMcpConfig({ calc: { url: server.url } });
      await e2e.start({ MCP_CONFIG: config.path }, { imports: [FastMcpReconnectModule] });
      const mcp = e2e.app.get(McpToolSource);
      expect(mcp.status()).toEqual([{ server: 'calc', state: 'connecting', transport: undefined, tools: [] }]);

      // Down: not offered, and a model that calls it anyway reads an error while the answer goes on.
      e2e.fake.enqueue({ tokens: [], toolCalls: [{ name: 'calc_add', arguments: { a: 1, b: 1 }, id: 'c_down' }] });
      const down = await ask(await newConversation(), 'add while down');
      expect(await offeredIn(1)).not.toContain('calc_add');
      expect(toolErrors(down)).toEqual([{ type: 'tool-error', toolCallId: 'c_down', error: expect.stringContaining('calc_add') }]);
      expect(down.at(-1)).toMatchObject({ type: 'done', message: { status: 'complete' } });

      await server.restart();
      await waitFor(() => mcp.status()[0]?.state === 'connected', 'the MCP server "calc" to be reconnected');

      // Back: offered, called, and its result reaches the next model call.
      e2e.fake.enqueue({ tokens: [], toolCalls: [{ name: 'calc_add', arguments: { a: 2, b: 40 }, id: 'c_back' }] });
      const back = await ask(await newConversation(), 'add now');
      expect(await offeredIn(3)).toEqual(expect.arrayContaining(['calc_add', 'calc_echo']));
      expect(results(back)).toEqual([{ type: 'tool-result', toolCallId: 'c_back', output: '42' }]);
      expect(server.calls.map((c) => [c.tool, c.args])).toEqual([['add', { a: 2, b: 40 }]]);
      expect(toolMessages((await e2e.fake.request(4)).body.messages)).toEqual([['c_back', '42']]);
    });
  });
});
