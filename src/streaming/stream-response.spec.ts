import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { acceptsGzip, StreamWriter } from './stream-response.js';


/** A real HTTP server whose handler writes through StreamWriter, and a raw TCP client that can stop reading. */
describe('StreamWriter behind a slow client', () => {
  let server: Server;
  let finished: Promise<number>;
  let written: Promise<void>;

  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function start(write: (writer: StreamWriter) => Promise<void>): Promise<number> {
    let markFinished!: (bytes: number) => void;
    let markWritten!: () => void;
    finished = new Promise((resolve) => (markFinished = resolve));
    written = new Promise((resolve) => (markWritten = resolve));
    const app = express();
    app.get('/', (_req, res) => {
      const writer = new StreamWriter(res, { 'Content-Type': 'text/plain; charset=utf-8' });
      void write(writer).then(() => {
        markWritten();
        writer.end();
        res.on('finish', () => markFinished(res.socket?.bytesWritten ?? -1));
      });
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('replaces a waiting cumulative line by the newer one, keeps other lines, and ends with the final text', async () => {
    const big = 'x'.repeat(64 * 1024);
    let text = '';
    const port = await start(async (writer) => {
      writer.write('{"role":"user"}\n');
      // 200 lines of 256 KiB: far more than loopback's socket buffers (a few MiB) can absorb,
      // so the writer has to wait for 'drain' whatever the machine's load.
      const padding = ' '.repeat(256 * 1024);
      for (let i = 0; i < 200; i++) {
        text += big;
        writer.write(`${JSON.stringify({ role: 'model', content: text.length })}${padding}\n`, 'answer');
        await new Promise((resolve) => setImmediate(resolve));
      }
      writer.write('{"role":"error"}\n');
    });

    const socket = connect(port, '127.0.0.1');
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    // A reader that lags until every line is written (not for a fixed time: on a loaded machine
    // the writing can take longer), so the server's writes have to wait for 'drain'.
    socket.pause();
    await written;
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await once(socket, 'end');
    await finished;

    const body = Buffer.concat(chunks).toString('utf8');
    const lines = body.split('\n').filter((line) => line.startsWith('{'));
    const modelLines = lines.filter((line) => line.includes('"model"'));
    // Everything written while the client lagged collapsed: far fewer than 200 model lines...
    expect(modelLines.length).toBeLessThan(200);
    // ...yet the final cumulative line is there, in order, and the error line after it.
    expect(lines[0]).toContain('"user"');
    expect(modelLines.at(-1)).toContain(`"content":${200 * big.length}`);
    expect(lines.at(-1)).toContain('"error"');
  });

  it('writes every line when the client keeps up', async () => {
    const port = await start(async (writer) => {
      for (let i = 1; i <= 50; i++) {
        writer.write(`{"n":${i}}\n`, 'answer');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toEqual(Array.from({ length: 50 }, (_, i) => `{"n":${i + 1}}`));
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip, deflate, br', true],
    ['br;q=1.0, GZIP;q=0.5', true],
    ['*', true],
    ['identity', false],
    ['gzip;q=0', false],
    ['gzip; q=0.000, deflate', false],
    [undefined, false],
  ])('%p → %p', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});
