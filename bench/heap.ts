// `npm run bench:heap`: what each stream holds. The built app under STREAMS (1,000) concurrent
// answers as in bench scenario 3 (all into the default conversation, so each reads the others'
// prompts as context), but slow enough (300 tokens, one every 200 ms) that all of them are running at
// once: a heap snapshot once warmed up and idle, another once every stream has its first model
// line, and what the second has more of than the first, per stream, by object kind (strings by
// how they begin).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postPrompt, rssMb, sleep, spawnAndWait, startBuiltApp, stopChild, streamRequest } from './support.js';

const STREAMS = Number(process.env.STREAMS ?? 1000);
const SNAPSHOT_SIGNAL = 'SIGWINCH'; // not one of Nest's shutdown signals

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Objects in a snapshot by kind ("type: constructor or name"): how many, and their own size. */
function census(file: string): Map<string, { count: number; bytes: number }> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt]];
    let name = heap.strings[heap.nodes[i + nameAt]];
    // A string's "name" is its text: strings are told apart by how they begin, which says what they are.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = JSON.stringify(name.slice(0, 24));
    if (type === 'code' || type === 'number') name = '';
    const kind = `${type}: ${name.slice(0, 60)}`;
    const entry = byKind.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += heap.nodes[i + sizeAt];
    byKind.set(kind, entry);
  }
  return byKind;
}

async function snapshot(pid: number, dir: string, taken: number): Promise<string> {
  process.kill(pid, SNAPSHOT_SIGNAL);
  for (;;) {
    const files = readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot'));
    if (files.length > taken) {
      // Written in place: done once its size stops changing.
      const file = join(dir, files.sort().at(-1)!);
      let size = -1;
      for (;;) {
        await sleep(500);
        const now = statSync(file).size;
        if (now === size && now > 0) return file;
        size = now;
      }
    }
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chat-heap-'));
  const { child: upstream, match } = await spawnAndWait('dist-bench/bench/fake-upstream.js', {}, /fake upstream on (\S+)/);
  try {
    const app = await startBuiltApp(
      { OPENAI_BASE_URL: match[1], OPENAI_MODEL: 'bench', CHAT_DEBOUNCE_MS: '10', DATABASE_URL: join(work, 'heap.sqlite') },
      [`--heapsnapshot-signal=${SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${work}`],
    );
    const pid = app.child.pid!;
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => postPrompt(app.url, `warm ${i} tokens=50 delay=2`)));
      await sleep(500);
      const idleRss = rssMb(pid);
      const idle = await snapshot(pid, work, 0);
      console.log(`idle: RSS ${idleRss.toFixed(1)} MB`);

      let started = 0;
      let allStarted!: () => void;
      const everyoneStarted = new Promise<void>((resolve) => (allStarted = resolve));
      const streams = Array.from({ length: STREAMS }, (_, i) =>
        streamRequest(`${app.url}/chat/`, {
          method: 'POST',
          body: new URLSearchParams({ prompt: `heap ${i} tokens=300 delay=200` }).toString(),
          onFirstModelLine: () => {
            if (++started === STREAMS) allStarted();
          },
        }),
      );
      await everyoneStarted;
      const busyRss = rssMb(pid);
      const busy = await snapshot(pid, work, 1);
      console.log(`${STREAMS} streams running (${started} with their first model line): RSS ${busyRss.toFixed(1)} MB, ${(((busyRss - idleRss) * 1024) / STREAMS).toFixed(0)} KB per stream`);
      await app.stop(); // the streams end with the process
      await Promise.all(streams);

      const before = census(idle);
      const after = census(busy);
      const rows = [...after]
        .map(([kind, { count, bytes }]) => ({ kind, count: count - (before.get(kind)?.count ?? 0), bytes: bytes - (before.get(kind)?.bytes ?? 0) }))
        .filter((row) => row.bytes > 0)
        .sort((a, b) => b.bytes - a.bytes);
      const total = rows.reduce((sum, row) => sum + row.bytes, 0);
      console.log(`\nV8 heap, ${STREAMS} streams over idle: ${(total / 1048576).toFixed(1)} MB, ${(total / STREAMS / 1024).toFixed(1)} KB per stream. By kind, per stream:`);
      console.table(
        rows.slice(0, Number(process.env.ROWS ?? 40)).map((row) => ({
          kind: row.kind,
          'objects per stream': Number((row.count / STREAMS).toFixed(2)),
          'bytes per stream': Math.round(row.bytes / STREAMS),
          share: `${((100 * row.bytes) / total).toFixed(1)} %`,
        })),
      );
    } finally {
      await app.stop();
    }
  } finally {
    await stopChild(upstream);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
