// The reference for `npm run bench`: the leanest correct implementation of the seed contract on
// bare node:http, no framework, no database (history in memory, sent whole to the model, as the
// original example does). Every bench figure is also given as a ratio to this.
//
//   UPSTREAM_URL=http://127.0.0.1:8000/v1 PORT=0 node dist-bench/bench/reference-relay.js
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Message {
  role: 'user' | 'model';
  timestamp: string;
  content: string;
}

const upstream = new URL(`${process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1'}/chat/completions`);
const debounceMs = 10;
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
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

function answer(res: ServerResponse, prompt: string): void {
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
  const update = () => {
    if (timer) return;
    const wait = sentAt + debounceMs - performance.now();
    if (wait <= 0) send();
    else timer = setTimeout(send, wait);
  };
  const finish = () => {
    finished = true;
    clearTimeout(timer);
    const wait = sentAt + debounceMs - performance.now();
    const end = () => {
      if (model.content !== sentText) res.write(line(model));
      res.end();
      history.push(model);
    };
    if (wait > 0 && model.content !== sentText) setTimeout(end, wait);
    else end();
  };

  const upstreamReq = request(
    upstream,
    { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
    (upstreamRes) => {
      let buffer = '';
      upstreamRes.setEncoding('utf8');
      upstreamRes.on('data', (chunk: string) => {
        buffer += chunk;
        let boundary;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const delta = (JSON.parse(event.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content;
          if (delta) {
            model.content += delta;
            update();
          }
        }
      });
      upstreamRes.on('end', finish);
      upstreamRes.on('error', () => res.destroy());
    },
  );
  upstreamReq.on('error', () => {
    if (!finished) res.destroy();
  });
  // The client left: stop the model.
  res.on('close', () => {
    if (!finished) {
      clearTimeout(timer);
      upstreamReq.destroy();
    }
  });
  upstreamReq.end(
    JSON.stringify({
      model: 'bench',
      stream: true,
      messages: history.slice(0, -1).map((m) => ({ role: m.role === 'user' ? 'user' : 'assistant', content: m.content })).concat({ role: 'user', content: prompt }),
    }),
  );
}

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
        answer(res, prompt);
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
  console.log(`reference relay listening on ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
