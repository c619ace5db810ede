// The reference for `npm run bench`: the leanest correct implementation of the seed contract on
// bare node:http, no framework, no database (bench/seed-relay.ts), reading the upstream's
// server-sent events itself over a keep-alive pool. Every bench figure is also given as a ratio to this.
//
//   UPSTREAM_URL=http://127.0.0.1:8000/v1 PORT=0 node dist-bench/bench/reference-relay.js
import { Agent, request } from 'node:http';
import { serveSeedRelay } from './seed-relay.js';

const upstream = new URL(`${process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1'}/chat/completions`);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

serveSeedRelay('reference relay', (turns, sink) => {
  let settled = false;
  const upstreamReq = request(upstream, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (upstreamRes) => {
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
        if (delta) sink.text(delta);
      }
    });
    upstreamRes.on('end', () => {
      if (!settled) sink.end();
      settled = true;
    });
    upstreamRes.on('error', () => {
      if (!settled) sink.fail();
      settled = true;
    });
  });
  upstreamReq.on('error', () => {
    if (!settled) sink.fail();
    settled = true;
  });
  upstreamReq.end(JSON.stringify({ model: 'bench', stream: true, messages: turns }));
  return () => {
    settled = true;
    upstreamReq.destroy();
  };
});
