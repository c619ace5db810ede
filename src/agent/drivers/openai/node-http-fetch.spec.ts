import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createNodeHttpFetch, deferredBody, nodeBodyOf } from './node-http-fetch.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('createNodeHttpFetch', () => {
  let server: Server;
  let url: string;
  const held: ServerResponse[] = [];
  const received: string[] = [];
  const framing: { contentLength?: string; transferEncoding?: string }[] = [];

  beforeEach(async () => {
    // Answers with the headers at once and holds the body open, as a model's stream does while it answers.
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push(body);
        framing.push({ contentLength: req.headers['content-length'], transferEncoding: req.headers['transfer-encoding'] });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {}\n\n');
        held.push(res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });

  afterEach(async () => {
    for (const res of held.splice(0)) res.end();
    received.length = 0;
    framing.length = 0;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the body, and keeps neither it nor the request init while the response streams', async () => {
    const fetchOverNode = createNodeHttpFetch();
    const collected = new Set<string>();
    const registry = new FinalizationRegistry<string>((what) => collected.add(what));
    const text = JSON.stringify({ messages: Array.from({ length: 500 }, (_, i) => ({ role: 'user', content: `turn ${i}` })) });

    const send = async () => {
      const body = new TextEncoder().encode(text);
      const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
      registry.register(init, 'init');
      registry.register(body, 'body');
      return fetchOverNode(url, init);
    };
    const response = await send();
    expect(response.status).toBe(200);
    expect(received).toEqual([text]);

    // The response is still being read (the server holds it open); the request and its body must be free to go.
    for (let i = 0; i < 20 && collected.size < 2; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect([...collected].sort()).toEqual(['body', 'init']);
    const stream = nodeBodyOf(response);
    expect(stream?.readableEnded).toBe(false);
    stream?.destroy();
  });

  it('makes a deferred body as it sends the request, not before, and sends it with its length', async () => {
    const fetchOverNode = createNodeHttpFetch();
    const text = JSON.stringify({ messages: [{ role: 'user', content: 'héllo' }] });
    let made = 0;
    const response = fetchOverNode(url, {
      method: 'POST',
      body: deferredBody(() => {
        made++;
        return text;
      }),
    });
    // The socket is assigned and connected later on: nothing is made while the call waits for it.
    expect(made).toBe(0);
    expect((await response).status).toBe(200);
    expect(made).toBe(1);
    expect(received).toEqual([text]);
    expect(framing).toEqual([{ contentLength: String(Buffer.byteLength(text)), transferEncoding: undefined }]);
    nodeBodyOf(await response)?.destroy();
  });

  it('fails the request, rather than throwing, when a deferred body cannot be made', async () => {
    const fetchOverNode = createNodeHttpFetch();
    const response = fetchOverNode(url, {
      method: 'POST',
      body: deferredBody(() => {
        throw new RangeError('Invalid string length');
      }),
    });
    await expect(response).rejects.toThrow('fetch failed');
    await expect(response).rejects.toHaveProperty('cause', expect.objectContaining({ message: 'Invalid string length' }));
    expect(received).toEqual([]);
  });

  it('fails the request, rather than throwing, on what node:http refuses at once (a control character in a header)', async () => {
    const fetchOverNode = createNodeHttpFetch();
    const response = fetchOverNode(url, { method: 'POST', headers: { authorization: 'Bearer sk-\u007fbad' }, body: '{}' });
    await expect(response).rejects.toThrow(/Invalid character in header content/);
    expect(received).toEqual([]);
  });
});

describe('createNodeHttpFetch on kept-alive sockets', () => {
  let server: Server;
  let url: string;
  /** Per request: which connection it came on (1-based) and its body. */
  const seen: { connection: number; body: string }[] = [];
  let closeSecondOnEachConnection = true;

  beforeEach(async () => {
    seen.length = 0;
    const connectionOf = new WeakMap<object, { number: number; requests: number }>();
    let connections = 0;
    server = createServer((req, res) => {
      const connection = connectionOf.get(req.socket)!;
      const nth = ++connection.requests;
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ connection: connection.number, body });
        // As a server whose idle timeout closed the socket just as the client reused it.
        if (closeSecondOnEachConnection && nth === 2) return void req.socket.destroy();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`answer ${seen.length}`);
      });
    });
    server.on('connection', (socket) => connectionOf.set(socket, { number: ++connections, requests: 0 }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    closeSecondOnEachConnection = true;
  });

  it('sends a request again, on another socket, when the kept-alive one it was sent on had been closed by the server', async () => {
    const fetchOverNode = createNodeHttpFetch();
    const first = await fetchOverNode(url, { method: 'POST', body: 'one' });
    expect(await first.text()).toBe('answer 1');
    // On the first socket again: the server closes it; the request is sent once more on a new one.
    const second = await fetchOverNode(url, { method: 'POST', body: 'two' });
    expect(second.status).toBe(200);
    expect(await second.text()).toBe('answer 3');
    expect(seen).toEqual([
      { connection: 1, body: 'one' },
      { connection: 1, body: 'two' },
      { connection: 2, body: 'two' },
    ]);
  });

  it('makes a deferred body again for the request it sends again', async () => {
    const fetchOverNode = createNodeHttpFetch();
    await (await fetchOverNode(url, { method: 'POST', body: 'one' })).text();
    let made = 0;
    const second = await fetchOverNode(url, { method: 'POST', body: deferredBody(() => `two, made ${++made}`) });
    expect(await second.text()).toBe('answer 3');
    expect(seen.slice(1)).toEqual([
      { connection: 1, body: 'two, made 1' },
      { connection: 2, body: 'two, made 2' },
    ]);
  });

  it('does not send again what failed on a new socket', async () => {
    closeSecondOnEachConnection = false;
    const fetchOverNode = createNodeHttpFetch();
    // Every request on a new socket, closed by the server before it answers.
    server.removeAllListeners('request');
    server.on('request', (req) => {
      req.resume();
      req.on('end', () => {
        seen.push({ connection: 0, body: '' });
        req.socket.destroy();
      });
    });
    await expect(fetchOverNode(url, { method: 'POST', body: 'once' })).rejects.toThrow('fetch failed');
    expect(seen).toHaveLength(1);
  });
});

/** A self-signed certificate for 127.0.0.1, made for this spec (valid until 2126). */
const TEST_TLS = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLtpryvEHTKBN3ga0
FPlCboBUEwR3arjoKNWON5ERswmhRANCAAQDkVwwtgb946eYNjGmEJQbihS1tLB1
uyaqCup27A6dF+kclMA7FE20DkzZ3G4at0HdeIdV/jzOQuC06WjQpW8V
-----END PRIVATE KEY-----`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUMiSXugFDj/W1fHxuJpsvrC9KNlQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjE0MzczMVoYDzIxMjYxMTA4
MTQzNzMxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQDkVwwtgb946eYNjGmEJQbihS1tLB1uyaqCup27A6dF+kclMA7FE20
DkzZ3G4at0HdeIdV/jzOQuC06WjQpW8Vo28wbTAdBgNVHQ4EFgQU3cmSJDOaQhBe
eTfGKXznoKpnrKQwHwYDVR0jBBgwFoAU3cmSJDOaQhBeeTfGKXznoKpnrKQwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhAOGSy002JS7nt0uxMjHAn/4EQbjM6fIF2lARwCHOrGOMAiEA
0xOziZjeNnb9RkkG7NYW3kgMwqL5tc139rARzMBfaTo=
-----END CERTIFICATE-----`,
};

describe('createNodeHttpFetch over https', () => {
  it('sends a deferred body over https, made once per request, on a new connection and on a pooled one, with its length', async () => {
    const received: { body: string; contentLength?: string }[] = [];
    const server = createHttpsServer(TEST_TLS, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ body, contentLength: req.headers['content-length'] });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const fetchOverNode = createNodeHttpFetch({ ca: TEST_TLS.cert });
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
      const text = JSON.stringify({ messages: [{ role: 'user', content: 'ünïcode '.repeat(2_000) }] });
      let made = 0;
      const send = () =>
        fetchOverNode(url, {
          method: 'POST',
          body: deferredBody(() => {
            made++;
            return text;
          }),
        });
      // A new connection (TCP, then the handshake), then the same one from the keep-alive pool.
      expect(await (await send()).text()).toBe('ok');
      expect(await (await send()).text()).toBe('ok');
      expect(made).toBe(2);
      expect(received).toEqual([
        { body: text, contentLength: String(Buffer.byteLength(text)) },
        { body: text, contentLength: String(Buffer.byteLength(text)) },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
