// What the bench's two comparison targets share: the seed contract on bare node:http, with the
// history in memory (sent whole to the model, as the original example does) and no database.
// Only the model call differs: bench/reference-relay.ts reads the upstream's server-sent events
// itself, bench/ai-sdk-relay.ts uses the Vercel AI SDK. Neither is the app's code.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Message {
  role: 'user' | 'model';
  timestamp: string;
  content: string;
}

/** One turn of the conversation as the model gets it. */
export interface ModelTurn {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

/** Where a model call reports to. `end` or `fail` comes once, last; neither after the call was aborted. */
export interface ModelSink {
  text(delta: string): void;
  end(): void;
  fail(): void;
}

/** Starts a model call; returns what aborts it (the client left). */
export type CallModel = (turns: readonly ModelTurn[], sink: ModelSink) => () => void;

const debounceMs = 10;
const history: Message[] = [];

const line = (message: Message) => `${JSON.stringify(message)}\n`;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function promptOf(req: IncomingMessage, body: string): string | undefined {
  if (req.headers['content-type']?.startsWith('application/json')) {
    const parsed = JSON.parse(body) as { prompt?: unknown };
    return typeof parsed.prompt === 'string' ? parsed.prompt : undefined;
  }
  return new URLSearchParams(body).get('prompt') ?? undefined;
}

/**
 * The user line at once, then model lines each carrying all the text so far: at most one per
 * 10 ms while text arrives, and the final text the moment the model ends.
 */
function answer(res: ServerResponse, prompt: string, callModel: CallModel): void {
  const turns: ModelTurn[] = history.map((m) => ({ role: m.role === 'user' ? 'user' : 'assistant', content: m.content }));
  turns.push({ role: 'user', content: prompt });
  const user: Message = { role: 'user', timestamp: new Date().toISOString(), content: prompt };
  history.push(user);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.write(line(user));

  const model: Message = { role: 'model', timestamp: new Date().toISOString(), content: '' };
  let sentAt = 0;
  let sentText = '';
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const send = () => {
    timer = undefined;
    if (model.content === sentText) return;
    sentText = model.content;
    sentAt = performance.now();
    res.write(line(model));
  };
  const abort = callModel(turns, {
    text: (delta) => {
      model.content += delta;
      if (timer) return;
      const wait = sentAt + debounceMs - performance.now();
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    },
    end: () => {
      finished = true;
      clearTimeout(timer);
      if (model.content !== sentText) res.write(line(model));
      res.end();
      history.push(model);
    },
    fail: () => {
      finished = true;
      clearTimeout(timer);
      res.destroy();
    },
  });
  // The client left: stop the model.
  res.on('close', () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    abort();
  });
}

/** Serves GET and POST /chat/ (and the bench's POST /__seed?turns=n) on PORT; prints `<name> listening on <port>`. */
export function serveSeedRelay(name: string, callModel: CallModel): void {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/chat/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(history.map(line).join(''));
      return;
    }
    if (path === '/chat/' && req.method === 'POST') {
      readBody(req).then(
        (body) => {
          const prompt = promptOf(req, body);
          if (prompt === undefined) {
            res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"prompt is required"}');
            return;
          }
          answer(res, prompt, callModel);
        },
        () => res.destroy(),
      );
      return;
    }
    if (path === '/__seed' && req.method === 'POST') {
      // Bench fixture: replace the history with `turns` exchanges.
      const turns = Number(new URL(req.url!, 'http://x').searchParams.get('turns') ?? 0);
      history.length = 0;
      for (let i = 0; i < turns; i++) {
        const timestamp = new Date().toISOString();
        history.push({ role: 'user', timestamp, content: `question ${i} ${'x'.repeat(200)}` });
        history.push({ role: 'model', timestamp, content: `answer ${i} ${'y'.repeat(400)}` });
      }
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`${name} listening on ${(server.address() as AddressInfo).port}`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
