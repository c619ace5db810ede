import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';

export interface AppProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Starts the built app (dist/main.js) as its own process, as a user runs it. */
export async function startBuiltApp(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/info`)).ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the app did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Stores `turns` exchanges of a conversation straight into the SQLite file. */
export function seedTurns(databasePath: string, conversationId: string, turns: number): void {
  const db = new Database(databasePath);
  const now = new Date().toISOString().replace('Z', '000Z');
  db.prepare(`INSERT OR IGNORE INTO conversations (id, title, created_at, updated_at) VALUES (?, 'bench', ?, ?)`).run(conversationId, now, now);
  const insert = db.prepare(
    `INSERT INTO messages (conversation_id, role, content, status, timestamp, created_at) VALUES (?, ?, ?, 'complete', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < turns; i++) {
      const stamp = new Date(Date.UTC(2020, 0, 1) + i).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`);
      insert.run(conversationId, 'user', `question ${i} ${'x'.repeat(200)}`, stamp, stamp);
      insert.run(conversationId, 'model', `answer ${i} ${'y'.repeat(400)}`, stamp, stamp);
    }
  })();
  db.close();
}

/** Sends a request and reads the body, timing the first byte and the end. */
export async function timedRequest(url: string, init: RequestInit): Promise<{ firstByteMs: number; totalMs: number; bytes: number; text: string }> {
  const started = performance.now();
  const response = await fetch(url, init);
  let firstByteMs = -1;
  let bytes = 0;
  const parts: Buffer[] = [];
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started;
    bytes += chunk.byteLength;
    parts.push(Buffer.from(chunk));
  }
  return { firstByteMs, totalMs: performance.now() - started, bytes, text: Buffer.concat(parts).toString('utf8') };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
