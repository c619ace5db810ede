import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import Database from 'better-sqlite3';
import { createPostgresDatabase, dropPostgresDatabase, postgresAdminUrl, withPostgres } from '../test/support/postgres.js';
import { hasRedisServer, REDIS_SERVER, RedisServer } from '../test/support/redis-process.js';
import type { RequestTimes } from '../test/support/fake-openai.js';

export { type AppProcess, startBuiltApp } from '../test/support/built-app.js';

export const epochMs = (): number => performance.timeOrigin + performance.now();
const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** A child process that prints `… <url or port>` when it is ready. */
export async function spawnAndWait(script: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const match = ready.exec(out);
    if (match) {
      child.stdout.resume();
      return { child, match };
    }
  }
  throw new Error(`${script} exited before it was ready: ${out}`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Samples a process's RSS until stopped; returns the peak in MB. */
export function watchRss(pid: number, everyMs = 20): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}

// A connection per request: reusing idle keep-alive sockets races the server closing them, which would count as errors.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

export interface StreamResult {
  status: number;
  startedAt: number;
  firstByteAt: number;
  /** When the first line of the model's answer arrived (seed format: role model; delta: a delta). */
  firstModelLineAt: number;
  endAt: number;
  bytes: number;
  text: string;
  error?: string;
}

/**
 * One request over node:http, reading the streamed body; `leaveAfterFirstModelLine` closes the
 * connection as soon as the model's first line arrives (a client leaving).
 */
export function streamRequest(
  url: string,
  options: {
    method?: string;
    body?: string;
    contentType?: string;
    acceptEncoding?: string;
    leaveAfterFirstModelLine?: boolean;
    /** Called when the model's first line arrives, while the body goes on being read. */
    onFirstModelLine?: () => void;
  } = {},
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const result: StreamResult = { status: 0, startedAt: epochMs(), firstByteAt: 0, firstModelLineAt: 0, endAt: 0, bytes: 0, text: '' };
    const chunks: Buffer[] = [];
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        agent,
        headers: {
          ...(options.body !== undefined && { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' }),
          ...(options.acceptEncoding && { 'accept-encoding': options.acceptEncoding }),
        },
      },
      (res) => {
        result.status = res.statusCode ?? 0;
        res.on('data', (chunk: Buffer) => {
          const now = epochMs();
          if (!result.firstByteAt) result.firstByteAt = now;
          result.bytes += chunk.length;
          chunks.push(chunk);
          if (!result.firstModelLineAt && /"role":"model"|"type":"delta"/.test(chunk.toString('latin1'))) {
            result.firstModelLineAt = now;
            options.onFirstModelLine?.();
            if (options.leaveAfterFirstModelLine) {
              result.endAt = now;
              req.destroy();
              resolve(result);
            }
          }
        });
        res.on('end', () => {
          result.endAt = epochMs();
          result.text = Buffer.concat(chunks).toString('utf8');
          resolve(result);
        });
        res.on('error', (error) => {
          if (options.leaveAfterFirstModelLine && result.firstModelLineAt) return;
          result.error = error.message;
          result.endAt = epochMs();
          resolve(result);
        });
      },
    );
    req.on('error', (error) => {
      if (options.leaveAfterFirstModelLine && result.firstModelLineAt) return;
      result.error = error.message;
      result.endAt = epochMs();
      resolve(result);
    });
    req.end(options.body);
  });
}

export const postPrompt = (url: string, prompt: string, extra: { leaveAfterFirstModelLine?: boolean } = {}) =>
  streamRequest(`${url}/chat/`, { method: 'POST', body: new URLSearchParams({ prompt }).toString(), ...extra });

/** The upstream's record of each request (when its first token and its end were sent). */
export async function upstreamTimes(upstreamUrl: string, forget = false): Promise<RequestTimes[]> {
  const response = await fetch(`${upstreamUrl.replace(/\/v1$/, '')}/__requests`, { method: forget ? 'DELETE' : 'GET' });
  return (await response.json()) as RequestTimes[];
}

/** The seed route's conversation (the local owner's default one), which seedTurns fills. */
export const SEED_CONVERSATION_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Stores `turns` exchanges in the seed's default conversation, straight into the SQLite file
 * (replacing what was there), as a chain ending at the active leaf. With `branches`: that many
 * edits besides (a prompt and its answer each, following one of the chain's last 50 answers,
 * written after the chain), which the active path never goes through.
 */
export function seedTurns(databasePath: string, turns: number, branches = 0): void {
  const conversationId = SEED_CONVERSATION_ID;
  const db = new Database(databasePath);
  db.pragma('busy_timeout = 5000');
  const now = new Date().toISOString().replace('Z', '000Z');
  db.prepare(`INSERT OR IGNORE INTO conversations (id, title, created_at, updated_at) VALUES (?, 'bench', ?, ?)`).run(conversationId, now, now);
  const insert = db.prepare(
    `INSERT INTO messages (conversation_id, parent_id, role, content, status, timestamp, created_at) VALUES (?, ?, ?, ?, 'complete', ?, ?)`,
  );
  const add = (parentId: number | null, role: string, content: string, stamp: string) => Number(insert.run(conversationId, parentId, role, content, stamp, stamp).lastInsertRowid);
  db.transaction(() => {
    db.prepare('DELETE FROM messages WHERE conversation_id = ?').run(conversationId);
    let leaf: number | null = null;
    const answers: number[] = [];
    for (let i = 0; i < turns; i++) {
      const stamp = new Date(Date.UTC(2020, 0, 1) + i).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}Z`);
      leaf = add(add(leaf, 'user', `question ${i} ${'x'.repeat(200)}`, stamp), 'model', `answer ${i} ${'y'.repeat(400)}`, stamp);
      answers.push(leaf);
    }
    for (let b = 0; b < branches && answers.length > 0; b++) {
      const stamp = new Date(Date.UTC(2021, 0, 1) + b).toISOString().replace('Z', '000Z');
      const after = answers[answers.length - 1 - (b % Math.min(50, answers.length))];
      add(add(after, 'user', `branch ${b} ${'x'.repeat(200)}`, stamp), 'model', `branch answer ${b} ${'y'.repeat(400)}`, stamp);
    }
    db.prepare('UPDATE conversations SET active_message_id = ? WHERE id = ?').run(leaf, conversationId);
  })();
  db.close();
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const median = (values: number[]): number => percentile(values, 50);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Service {
  readonly url: string;
  stop(): Promise<void>;
}

/** A redis-server of the bench's own (test/support/redis-process.ts). */
export async function startRedisServer(): Promise<Service> {
  if (!hasRedisServer()) throw new Error(`no redis-server at ${REDIS_SERVER} (apt-get install -y redis-server)`);
  const server = await RedisServer.start();
  return { url: server.url, stop: () => server.stop() };
}

/** The admin URL without its password, for messages. */
export const shownPostgresUrl = (): string => {
  const url = new URL(postgresAdminUrl);
  if (url.password) url.password = '***';
  return url.toString();
};

/** A fresh, empty PostgreSQL database (test/support/postgres.ts); `stop` drops it. */
export async function createBenchDatabase(): Promise<Service> {
  const { name, url } = await createPostgresDatabase('chat_bench');
  return { url, stop: () => dropPostgresDatabase(name) };
}

export { withPostgres };
