#!/usr/bin/env node
// A real MCP server over stdio for tests and the bench: the SDK's McpServer on StdioServerTransport.
// Plain JavaScript, since it runs as a child process that nothing compiles:
//   node test/support/mcp-stdio-server.mjs
// Tools as mcp-http-server.ts (add, echo, fail, slow, big), plus what only a child process can show:
//   pid → its process id; calls → the calls it received so far as JSON [{tool, args, aborted}];
//   env {name} → the value of that environment variable, or "(unset)";
//   stderr {bytes} → writes that many bytes to stderr, then answers "wrote <bytes> bytes".
// With MCP_TEST_EXIT_AT_START=1 it writes "test-stdio-server: the key <API_KEY> was refused" to
// stderr and exits with 1 before answering anything (a server that cannot start, and says a secret).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod';

if (process.env.MCP_TEST_EXIT_AT_START) {
  process.stderr.write(`test-stdio-server: the key ${process.env.API_KEY ?? '(none)'} was refused\n`);
  process.exit(1);
}

const calls = [];
const record = (tool, args, signal) => {
  const call = { tool, args, aborted: false };
  calls.push(call);
  signal.addEventListener('abort', () => (call.aborted = true), { once: true });
  return call;
};
const text = (value) => ({ content: [{ type: 'text', text: value }] });

const server = new McpServer({ name: 'test-stdio-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });

server.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }, extra) => {
  record('add', { a, b }, extra.signal);
  return text(String(a + b));
});
server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string() } }, (args, extra) => {
  record('echo', args, extra.signal);
  return text(args.text);
});
server.registerTool('fail', { description: 'Always fails (an isError result).', inputSchema: { message: z.string().optional() } }, (args, extra) => {
  record('fail', args, extra.signal);
  return { isError: true, content: [{ type: 'text', text: args.message ?? 'the fail tool always fails' }] };
});
server.registerTool('big', { description: 'Returns a text of `bytes` characters.', inputSchema: { bytes: z.number().int().min(0) } }, (args, extra) => {
  record('big', args, extra.signal);
  return text('x'.repeat(args.bytes));
});
server.registerTool('slow', { description: 'Waits `ms` milliseconds; stops when cancelled.', inputSchema: { ms: z.number().int().min(0) } }, async ({ ms }, extra) => {
  record('slow', { ms }, extra.signal);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    extra.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('cancelled'))), { once: true });
  });
  return text(`slept ${ms} ms`);
});
server.registerTool('pid', { description: 'Returns the server process id.' }, (extra) => {
  record('pid', {}, extra.signal);
  return text(String(process.pid));
});
server.registerTool('calls', { description: 'Returns the calls received so far, as JSON.' }, () => text(JSON.stringify(calls)));
server.registerTool('env', { description: 'Returns an environment variable.', inputSchema: { name: z.string() } }, (args, extra) => {
  record('env', args, extra.signal);
  return text(process.env[args.name] ?? '(unset)');
});
server.registerTool('stderr', { description: 'Writes `bytes` bytes to stderr.', inputSchema: { bytes: z.number().int().min(0) } }, async (args, extra) => {
  record('stderr', args, extra.signal);
  const line = `${'e'.repeat(99)}\n`;
  let left = args.bytes;
  while (left > 0) {
    const piece = line.repeat(Math.min(1000, Math.ceil(left / line.length))).slice(0, left);
    left -= piece.length;
    // Waits while the pipe is full: a client that never reads stderr would block this call.
    if (!process.stderr.write(piece)) await new Promise((resolve) => process.stderr.once('drain', resolve));
  }
  return text(`wrote ${args.bytes} bytes`);
});

process.stderr.write('test-stdio-server: ready\n');
await server.connect(new StdioServerTransport());
