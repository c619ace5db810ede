import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one request. */
export interface FakeReply {
  /** The text deltas to stream; default: `tokenCount` words "w0 w1 …". */
  readonly tokens?: readonly string[];
  readonly tokenCount?: number;
  /** Delay before the first delta and between deltas. */
  readonly firstTokenDelayMs?: number;
  readonly tokenDelayMs?: number;
  /** Per-token delays, overriding the two above. */
  readonly tokenDelays?: readonly number[];
  /** Answer with this HTTP status and an OpenAI-style error body instead of a stream. */
  readonly status?: number;
  readonly errorMessage?: string;
  /** Destroy the connection after this many deltas, without finishing the stream. */
  readonly dropAfterTokens?: number;
  /** After this many deltas, send an event whose data is not JSON. */
  readonly malformedAfterTokens?: number;
  /** After this many deltas, send `event: error` with this message, as some servers do mid-stream. */
  readonly errorEvent?: { readonly afterTokens: number; readonly message: string };
  /** Answer 200 with an HTML page instead of a stream, as a proxy's login page does. */
  readonly htmlPage?: boolean;
  /**
   * After this many deltas, send one line of this many bytes with no newline (the start of a
   * `data:` event that never ends), written as the connection takes it; `hugeLineBytesSent`
   * on the request says how far it got.
   */
  readonly hugeLine?: { readonly afterTokens: number; readonly bytes: number };
  /** Stream only a usage chunk (`choices: []`) and `[DONE]`: no text, no finish_reason, no choice. */
  readonly noChoices?: boolean;
  /** Keep the response open this long after `data: [DONE]` before ending it. */
  readonly holdOpenAfterDoneMs?: number;
  /** Leave out the chunk with `finish_reason` (many OpenAI-compatible servers do). */
  readonly noFinishReason?: boolean;
  /** Answer "re: <the last user message>" in a few tokens, so an answer can be matched to its prompt. */
  readonly echo?: boolean;
  /**
   * Take `tokens=<n>`, `delay=<ms>` and `first=<ms>` from the last user message (the bench drives
   * a fake in another process this way).
   */
  readonly fromPrompt?: boolean;
  /**
   * After the tokens, call these tools as OpenAI streams tool calls: per call a first piece with
   * `index`, `id`, `type` and the name, then the arguments cut in pieces; then
   * `finish_reason: "tool_calls"`. `arguments` as an object is sent as its JSON.
   */
  readonly toolCalls?: readonly FakeToolCall[];
}

export interface FakeToolCall {
  readonly name: string;
  readonly arguments?: string | object;
  /** Default `call_<request>_<index>`. */
  readonly id?: string;
}

/** A message of a request as the fake received it (chat.completions shape). */
export interface RecordedMessage {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** How the fake answers `GET /v1/models`. */
export interface FakeModelList {
  /** The model ids listed (default: none, an empty list). */
  readonly ids?: readonly string[];
  /** Answer with this HTTP status and an error body instead. */
  readonly status?: number;
  /** Never answer (the connection stays open until the client gives up). */
  readonly hang?: boolean;
}

/** When things happened on one request, in epoch milliseconds (comparable across local processes). */
export interface RequestTimes {
  prompt: string;
  /** When the request's body had arrived. */
  receivedAt?: number;
  /** Whether the request carried tool results (a later step of an answer). */
  afterTools?: boolean;
  firstTokenAt?: number;
  endAt?: number;
  closedAt?: number;
  aborted: boolean;
}

export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface RecordedRequest {
  readonly body: {
    model: string;
    messages: RecordedMessage[];
    tools?: { type: 'function'; function: { name: string; description?: string; parameters?: object } }[];
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
  };
  readonly headers: IncomingMessage['headers'];
  /** The client's port: requests on one kept-alive connection share it. */
  readonly remotePort: number | undefined;
  /** True once the client closed the connection before the fake finished answering. */
  aborted: boolean;
  /** Resolves when the connection for this request is over, whoever ended it. */
  readonly closed: Promise<void>;
  readonly times: RequestTimes;
  /** With `hugeLine`: the bytes of the line written before the connection closed (or all of them). */
  hugeLineBytesSent: number;
}

export function wordTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `w${i} `);
}

/**
 * An OpenAI-compatible server over real HTTP: `POST /v1/chat/completions` streams
 * `chat.completion.chunk` events exactly as OpenAI sends them (SSE, `data: [DONE]` last).
 */
export class FakeOpenAi {
  readonly requests: RecordedRequest[] = [];
  /** How many times `GET /v1/models` was asked. */
  modelListRequests = 0;
  /** What `GET /v1/models` answers. */
  modelList: FakeModelList = {};
  private readonly queued: FakeReply[] = [];
  private paused: Promise<void> | undefined;
  private readonly server: Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(private defaultReply: FakeReply) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(defaultReply: FakeReply = {}): Promise<FakeOpenAi> {
    const fake = new FakeOpenAi(defaultReply);
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    return fake;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** The reply to the next request (queued in order); later requests get the default. */
  enqueue(...replies: FakeReply[]): void {
    this.queued.push(...replies);
  }

  /** Resolves with the n-th request (1-based) once it has arrived. */
  async request(n: number, timeoutMs = 2000): Promise<RecordedRequest> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      if (Date.now() > deadline) throw new Error(`the fake upstream got ${this.requests.length} requests, not ${n}`);
      await sleep(5);
    }
    return this.requests[n - 1];
  }

  /**
   * Holds every answer in flight before its next token until the returned function is called:
   * keeps an answer running for as long as a test needs, whatever the machine's load.
   */
  pause(): () => void {
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    this.paused = paused;
    return () => {
      if (this.paused === paused) this.paused = undefined;
      release();
    };
  }

  setDefault(reply: FakeReply): void {
    this.defaultReply = reply;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `GET /v1/models` as OpenAI answers it: `{object: 'list', data: [{id, object: 'model', created, owned_by}]}`. */
  private listModels(res: ServerResponse): void {
    this.modelListRequests++;
    const { ids = [], status, hang } = this.modelList;
    if (hang) return;
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'fake model list failure', type: 'server_error' } }));
      return;
    }
    const created = Math.floor(Date.now() / 1000);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'fake' })) }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === '/__requests') {
      // For a driver in another process: the timings recorded so far (DELETE: and forget them).
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.requests.map((r) => r.times)));
      if (req.method === 'DELETE') this.requests.length = 0;
      return;
    }
    if (req.method === 'GET' && req.url?.endsWith('/models')) return this.listModels(res);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const queued = this.queued.shift();
    let reply = queued ?? this.defaultReply;
    let markClosed!: () => void;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
    const lastPrompt = body.messages.findLast((m) => m.role === 'user')?.content ?? '';

    const recorded: RecordedRequest = {
      body,
      headers: req.headers,
      remotePort: req.socket.remotePort,
      aborted: false,
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
      times: { prompt: lastPrompt, aborted: false, receivedAt: epochMs(), afterTools: body.messages.at(-1)?.role === 'tool' },
      hugeLineBytesSent: 0,
    };
    this.requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.aborted = recorded.times.aborted = true;
      recorded.times.closedAt = epochMs();
      markClosed();
    });
    if (reply.fromPrompt) reply = { ...reply, ...replyFromPrompt(lastPrompt, recorded.times.afterTools ?? false) };
    if (reply.toolCalls && !queued && recorded.times.afterTools) {
      // A default that calls tools would loop forever: after the tool results, the default answers in words.
      reply = { ...reply, toolCalls: undefined };
    }

    if (reply.status !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: reply.errorMessage ?? 'fake failure', type: 'server_error', param: null, code: null } }));
      return;
    }

    if (reply.htmlPage) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><title>Sign in</title></head><body><form method="post"><input name="user"></form></body></html>\n');
      return;
    }

    const tokens = reply.echo ? ['re', ': ', ...lastPrompt.split(/(?<= )/)] : (reply.tokens ?? wordTokens(reply.tokenCount ?? 5));
    const id = `chatcmpl-fake${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = recorded.body.model;
    const chunk = (delta: object, finishReason: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: 'fp_fake',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      })}\n\n`;

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    if (reply.noChoices) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 } })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.write(chunk({ role: 'assistant', content: '', refusal: null }, null));
    for (let i = 0; i < tokens.length; i++) {
      const delay = reply.tokenDelays?.[i] ?? (i === 0 ? (reply.firstTokenDelayMs ?? reply.tokenDelayMs ?? 0) : (reply.tokenDelayMs ?? 0));
      if (delay > 0) await sleep(delay);
      if (this.paused) await this.paused;
      if (res.destroyed) return;
      if (reply.dropAfterTokens !== undefined && i >= reply.dropAfterTokens) {
        res.socket?.destroy();
        return;
      }
      if (reply.errorEvent && i >= reply.errorEvent.afterTokens) {
        res.end(`event: error\ndata: ${JSON.stringify({ error: { message: reply.errorEvent.message, type: 'server_error' } })}\n\n`);
        return;
      }
      if (reply.hugeLine && i >= reply.hugeLine.afterTokens) {
        await writeHugeLine(res, reply.hugeLine.bytes, recorded);
        return;
      }
      if (reply.malformedAfterTokens !== undefined && i >= reply.malformedAfterTokens) {
        res.end('data: {"id":"broken", "choices": [\n\n');
        return;
      }
      res.write(chunk({ content: tokens[i] }, null));
      if (i === 0) recorded.times.firstTokenAt = epochMs();
    }
    const calls = reply.toolCalls ?? [];
    for (let index = 0; index < calls.length; index++) {
      const call = calls[index];
      const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
      res.write(chunk({ ...(index === 0 && tokens.length === 0 && { role: 'assistant', content: null }), tool_calls: [{ index, id: call.id ?? `call_${this.requests.length}_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
      // The arguments in three pieces, as OpenAI cuts them anywhere.
      const cut = [Math.floor(args.length / 3), Math.floor((2 * args.length) / 3)];
      for (const piece of [args.slice(0, cut[0]), args.slice(cut[0], cut[1]), args.slice(cut[1])]) {
        if (piece) res.write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
      }
    }
    if (!reply.noFinishReason) res.write(chunk({}, calls.length > 0 ? 'tool_calls' : 'stop'));
    if (recorded.body.stream_options?.include_usage) {
      const completionTokens = tokens.length;
      const promptTokens = recorded.body.messages.reduce((n, m) => n + Math.ceil((m.content ?? '').length / 4), 0);
      res.write(
        `data: ${JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          system_fingerprint: 'fp_fake',
          choices: [],
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
        })}\n\n`,
      );
    }
    if (reply.holdOpenAfterDoneMs) {
      res.write('data: [DONE]\n\n');
      recorded.times.endAt = epochMs();
      await sleep(reply.holdOpenAfterDoneMs);
      if (!res.destroyed) res.end();
      return;
    }
    res.end('data: [DONE]\n\n');
    recorded.times.endAt = epochMs();
  }
}

/** `data: {"choices":[{"delta":{"content":"xxx…` up to `bytes`, never ending the line; stops when the client goes. */
async function writeHugeLine(res: ServerResponse, bytes: number, recorded: RecordedRequest): Promise<void> {
  const head = 'data: {"id":"huge","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"';
  res.write(head);
  recorded.hugeLineBytesSent = head.length;
  const piece = Buffer.alloc(64 * 1024, 'x');
  while (recorded.hugeLineBytesSent < bytes) {
    if (res.destroyed) return;
    const part = piece.subarray(0, Math.min(piece.length, bytes - recorded.hugeLineBytesSent));
    const flushed = res.write(part);
    recorded.hugeLineBytesSent += part.length;
    if (!flushed) {
      // Wait for the client to read on, or to close the connection.
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
}

function replyFromPrompt(prompt: string, afterTools: boolean): FakeReply {
  const number = (name: string) => {
    const match = new RegExp(`\\b${name}=(\\d+)`).exec(prompt);
    return match ? Number(match[1]) : undefined;
  };
  const tools = number('tools') ?? 0;
  return {
    tokenCount: number('tokens') ?? 5,
    tokenDelayMs: number('delay'),
    firstTokenDelayMs: number('first') ?? number('delay'),
    // `tools=<n>`: the first step calls current_time n times (no text), the next answers in words.
    ...(tools > 0 && !afterTools && { tokenCount: 0, toolCalls: Array.from({ length: tools }, () => ({ name: 'current_time', arguments: {} })) }),
  };
}

function sleep(ms: number): Promise<void> {
  // Unref'd: a reply told to hang must not keep the test process alive after the test.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
