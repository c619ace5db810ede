import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { wordTokens } from '../test/support/fake-openai.js';
import { measureObservability } from './observability.js';
import { acrossInstances, COST, measureResumes, type RedisCost, RESUMED, type ResumeLatency } from './resume.js';
import { measureToolStep, TOOL_STEP } from './tool-step.js';
import {
  cpuMs,
  epochMs,
  median,
  percentile,
  postPrompt,
  round,
  rssMb,
  SEED_CONVERSATION_ID,
  seedTurns,
  sleep,
  spawnAndWait,
  startBuiltApp,
  stopChild,
  streamRequest,
  upstreamTimes,
  watchRss,
} from './support.js';

/**
 * `npm run bench`: the fake upstream in its own process, then three targets, each measured the
 * same way, one at a time, against the same upstream: the built app (dist/main.js, temp SQLite),
 * the reference relay (bench/reference-relay.ts, bare node:http reading the upstream itself) and
 * the AI SDK relay (bench/ai-sdk-relay.ts, the same node:http server calling the model through
 * the Vercel AI SDK). Prints a table per scenario with each figure's ratio to the reference for
 * the app and the AI SDK, and whether the app is ahead of the AI SDK, then one JSON line with
 * everything. Scenario 8 (resume, bench/resume.ts) is the app's alone, and its second half needs
 * PostgreSQL and redis-server.
 */

type TargetName = 'app' | 'reference' | 'aiSdk';
/** The order each scenario runs them in. */
const TARGETS: readonly TargetName[] = ['reference', 'aiSdk', 'app'];
type PerTarget<T> = Record<TargetName, T>;

interface Target {
  readonly name: TargetName;
  readonly url: string;
  readonly pid: number;
  /** Replaces the seed conversation's history with `turns` exchanges (and, in the app, `branches` edits beside them). */
  seed(turns: number, branches?: number): Promise<void>;
  stop(): Promise<void>;
}

type Starter = () => Promise<Target>;

/**
 * What every app process gets, whatever its database: the bench's model and settings. No tools,
 * as the relays have none (a tool in every request would be work they are spared); scenario 9
 * switches one on.
 */
const appEnv = (upstream: string) => ({ CHAT_DEBOUNCE_MS: '10', UPSTREAM_RETRIES: '0', OPENAI_BASE_URL: upstream, OPENAI_MODEL: 'bench' });

async function startApp(upstream: string, work: string, env: Record<string, string> = {}): Promise<Target> {
  const databasePath = join(work, `app-${Date.now()}.sqlite`);
  const app = await startBuiltApp({ ...appEnv(upstream), DATABASE_URL: databasePath, ...env });
  return {
    name: 'app',
    url: app.url,
    pid: app.child.pid!,
    seed: (turns, branches) => Promise.resolve(seedTurns(databasePath, turns, branches)),
    stop: () => app.stop(),
  };
}

/** The reference relay or the AI SDK relay (bench/seed-relay.ts): history in memory, seeded over HTTP. */
async function startRelay(name: 'reference' | 'aiSdk', upstream: string): Promise<Target> {
  const script = name === 'reference' ? 'dist-bench/bench/reference-relay.js' : 'dist-bench/bench/ai-sdk-relay.js';
  const { child, match } = await spawnAndWait(script, { UPSTREAM_URL: upstream, PORT: '0' }, /listening on (\d+)/);
  const url = `http://127.0.0.1:${match[1]}`;
  return {
    name,
    url,
    pid: child.pid!,
    // The reference keeps a flat list: branches are the app's alone.
    seed: async (turns) => void (await fetch(`${url}/__seed?turns=${turns}`, { method: 'POST' })),
    stop: () => stopChild(child),
  };
}

/** Runs `measure` on each target, each freshly started. */
async function onAll<T>(starters: PerTarget<Starter>, measure: (target: Target) => Promise<T>): Promise<PerTarget<T>> {
  const results = {} as PerTarget<T>;
  for (const name of TARGETS) {
    const target = await starters[name]();
    try {
      await target.seed(0);
      results[name] = await measure(target);
    } finally {
      await target.stop();
    }
  }
  return results;
}

/** The median of each numeric field over several runs. */
function medianOfEach<T extends Record<string, number>>(runs: T[]): T {
  return Object.fromEntries(Object.keys(runs[0]).map((key) => [key, median(runs.map((r) => r[key]))])) as T;
}

const ratio = (value: number, reference: number) => (reference === 0 ? NaN : round(value / reference));

interface Row {
  readonly unit: string;
  readonly app: number;
  readonly reference: number;
  /** NaN where the AI SDK relay has no such figure. */
  readonly aiSdk: number;
  /** Which way is better, for the app-against-AI-SDK column; none for figures that are neither. */
  readonly better?: 'lower' | 'higher';
}

/** A row from per-target results. */
const row = (unit: string, of: PerTarget<number>, better?: Row['better']): Row => ({ unit, app: of.app, reference: of.reference, aiSdk: of.aiSdk, better });
const pick = <T>(results: PerTarget<T>, figure: (result: T) => number): PerTarget<number> => ({
  app: figure(results.app),
  reference: figure(results.reference),
  aiSdk: figure(results.aiSdk),
});

/** `ahead` when the app's figure is better than the AI SDK's by more than 2 %, `level` within 2 %. */
function againstAiSdk({ app, aiSdk, better }: Row): string {
  if (!better || Number.isNaN(app) || Number.isNaN(aiSdk)) return '';
  if (Math.abs(app - aiSdk) <= 0.02 * Math.max(Math.abs(app), Math.abs(aiSdk))) return 'level';
  return (better === 'lower' ? app < aiSdk : app > aiSdk) ? 'ahead' : 'behind';
}

function table(title: string, rows: Record<string, Row>): void {
  console.log(`\n${title}`);
  console.table(
    Object.fromEntries(
      Object.entries(rows).map(([figure, r]) => [
        figure,
        {
          unit: r.unit,
          app: round(r.app),
          reference: round(r.reference),
          'AI SDK': round(r.aiSdk),
          'app / ref': ratio(r.app, r.reference),
          'AI SDK / ref': ratio(r.aiSdk, r.reference),
          'app vs AI SDK': againstAiSdk(r),
        },
      ]),
    ),
  );
}

// 1. Added latency: what the relay adds to the model's own timing.
async function addedLatency(target: Target, upstream: string) {
  const samples = 20;
  for (let i = 0; i < 3; i++) await postPrompt(target.url, `warm ${i} tokens=20 delay=1`);
  await upstreamTimes(upstream, true);
  const firsts: number[] = [];
  const lasts: number[] = [];
  const shortLasts: number[] = [];
  for (let i = 0; i < samples; i++) {
    const prompt = `latency ${i} tokens=200 delay=5`;
    const result = await postPrompt(target.url, prompt);
    const times = (await upstreamTimes(upstream, true)).find((t) => t.prompt === prompt)!;
    firsts.push(result.firstModelLineAt - times.firstTokenAt!);
    lasts.push(result.endAt - times.endAt!);
  }
  // A short answer from an instant upstream: its last text arrives within one debounce window of the first.
  for (let i = 0; i < samples; i++) {
    const prompt = `short ${i} tokens=10 delay=0`;
    const result = await postPrompt(target.url, prompt);
    const times = (await upstreamTimes(upstream, true)).find((t) => t.prompt === prompt)!;
    shortLasts.push(result.endAt - times.endAt!);
  }
  return {
    firstP50: median(firsts),
    firstP95: percentile(firsts, 95),
    lastP50: median(lasts),
    lastP95: percentile(lasts, 95),
    shortLastP50: median(shortLasts),
    shortLastP95: percentile(shortLasts, 95),
  };
}

// 2. Relay throughput: a 2,000-token answer as fast as the upstream sends it.
async function throughput(target: Target) {
  for (let i = 0; i < 3; i++) await postPrompt(target.url, `warm ${i} tokens=2000 delay=0`);
  await target.seed(0);
  const runs = 10;
  const rates: number[] = [];
  const cpuBefore = cpuMs(target.pid);
  for (let i = 0; i < runs; i++) {
    const result = await postPrompt(target.url, `throughput ${i} tokens=2000 delay=0`);
    if (!result.text.includes(wordTokens(2000).join(''))) throw new Error(`${target.name}: incomplete answer in the throughput run`);
    rates.push(2000 / ((result.endAt - result.startedAt) / 1000));
  }
  const cpuPer1000Tokens = (cpuMs(target.pid) - cpuBefore) / ((runs * 2000) / 1000);
  return { tokensPerSecond: median(rates), cpuMsPer1000Tokens: cpuPer1000Tokens };
}

// 3. Concurrency: n simultaneous 100-token answers at 20 ms per token.
async function concurrency(target: Target, streams: number) {
  // Warm-up, so that both are measured compiled rather than while the JIT is still at work.
  await Promise.all(Array.from({ length: 100 }, (_, i) => postPrompt(target.url, `warm ${i} tokens=50 delay=2`)));
  await target.seed(0);
  const idle = rssMb(target.pid);
  const rss = watchRss(target.pid);
  const cpuBefore = cpuMs(target.pid);
  const expected = wordTokens(100).join('');
  const results = await Promise.all(Array.from({ length: streams }, (_, i) => postPrompt(target.url, `concurrent ${i} tokens=100 delay=20`)));
  const cpu = cpuMs(target.pid) - cpuBefore;
  const peak = rss.stop();
  const errors = results.filter((r) => r.status !== 200 || r.error || !r.text.trimEnd().endsWith(`${JSON.stringify(expected)}}`)).length;
  return {
    errors,
    ttfbP99Ms: percentile(results.map((r) => r.firstByteAt - r.startedAt), 99),
    cpuMsPerRequest: cpu / streams,
    peakRssMb: peak,
    rssPerStreamKb: ((peak - idle) * 1024) / streams,
  };
}

// 4. History growth: a POST and GET /chat/ after n stored turns (and, in the app, branches beside them).
async function historyGrowth(target: Target, turns: number, branches = 0) {
  // Warm-up, as in the other scenarios, before the seed replaces what it wrote: the first size
  // measured used to be each target's first POSTs after its start, the JIT still at work.
  for (let i = 0; i < 20; i++) await postPrompt(target.url, `warm ${i} tokens=20 delay=0`);
  await target.seed(turns, branches);
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const result = await postPrompt(target.url, `history ${i} tokens=20 delay=0`);
    firsts.push(result.firstByteAt - result.startedAt);
    lasts.push(result.endAt - result.startedAt);
  }
  const gets: number[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await streamRequest(`${target.url}/chat/`);
    gets.push(result.endAt - result.startedAt);
  }
  // The REST page of the active path that a front end loads first (the newest 50 messages with
  // their branches); the relays have no such route.
  const pages: number[] = [];
  for (let i = 0; target.name === 'app' && i < 5; i++) {
    const result = await streamRequest(`${target.url}/api/conversations/${SEED_CONVERSATION_ID}/messages?limit=50`);
    if (result.status !== 200) throw new Error(`GET …/messages answered ${result.status}`);
    pages.push(result.endAt - result.startedAt);
  }
  return { firstByteMs: median(firsts), lastByteMs: median(lasts), getHistoryMs: median(gets), pageMs: median(pages) };
}

// 5. Wire cost: bytes received per answer byte, seed format (both) and delta format (app).
async function wireCost(target: Target) {
  const tokens = 2000;
  const answerBytes = Buffer.byteLength(wordTokens(tokens).join(''));
  const seed = await postPrompt(target.url, `wire tokens=${tokens} delay=1`);
  let delta = NaN;
  let deltaGzip = NaN;
  if (target.name === 'app') {
    const created = (await (await fetch(`${target.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string };
    const ask = (acceptEncoding?: string) =>
      streamRequest(`${target.url}/api/conversations/${created.id}/messages`, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ prompt: `wire tokens=${tokens} delay=1` }),
        acceptEncoding,
      });
    delta = (await ask()).bytes / answerBytes;
    deltaGzip = (await ask('gzip')).bytes / answerBytes; // bytes as received, still compressed
  }
  return { answerBytes, seedRatio: seed.bytes / answerBytes, deltaRatio: delta, deltaGzipRatio: deltaGzip };
}

// 6. Abort: clients leaving after the first line; the upstream connection must close within a second.
async function abort(target: Target, upstream: string) {
  const clients = 20;
  await upstreamTimes(upstream, true);
  const left = await Promise.all(
    Array.from({ length: clients }, (_, i) => postPrompt(target.url, `abort ${i} tokens=300 delay=20`, { leaveAfterFirstModelLine: true })),
  );
  await sleep(1500);
  const times = await upstreamTimes(upstream, true);
  const delays = left.map((result, i) => {
    const upstreamSide = times.find((t) => t.prompt === `abort ${i} tokens=300 delay=20`);
    return upstreamSide?.aborted && upstreamSide.closedAt ? upstreamSide.closedAt - result.endAt : Infinity;
  });
  return { closedWithinOneSecond: delays.filter((d) => d <= 1000).length, of: clients, worstMs: Math.max(...delays) };
}

// 7. Start-up: process start to the first answered request, and idle RSS.
async function startup(starter: Starter) {
  const started = epochMs();
  const target = await starter();
  try {
    for (;;) {
      try {
        const result = await streamRequest(`${target.url}/chat/`);
        if (result.status === 200) break;
      } catch {
        // not yet
      }
      await sleep(5);
    }
    const readyMs = epochMs() - started;
    await sleep(1000);
    return { firstAnswerMs: readyMs, idleRssMb: rssMb(target.pid) };
  } finally {
    await target.stop();
  }
}

// 9. One tool step: what the app adds between the model call that asks for a tool and the next.
async function toolStep(startApp: Starter, upstream: string) {
  const app = await startApp();
  try {
    const result = await measureToolStep(app.url, upstream);
    console.log(
      `\n9. One tool step (current_time) between two model calls, ${result.answers} answers of ${TOOL_STEP.tokens} tokens (ms; app only: the reference relay has no tools)`,
    );
    console.table({
      'upstream end of step 1 → step 2 request received': { p50: round(result.addedP50), p95: round(result.addedP95) },
      'whole answer with the step, less the upstream time of step 1': { p50: round(result.toolAnswerP50), p95: '' },
      'the same answer without tools': { p50: round(result.plainAnswerP50), p95: '' },
      failed: { p50: result.failed, p95: '' },
    });
    return result;
  } finally {
    await app.stop();
  }
}

// 8. Resume: reattaching to a running answer, on one instance and across two over Redis.
async function resume(startApp: Starter, upstream: string) {
  const one = await startApp();
  let oneInstance: ResumeLatency;
  try {
    oneInstance = (await measureResumes(one.url, { sqlite: one.url })).sqlite;
  } finally {
    await one.stop();
  }
  const across = await acrossInstances(appEnv(upstream));
  const latencyRows: Record<string, ResumeLatency> = { 'one instance (SQLite)': oneInstance };
  if (!('skipped' in across)) {
    latencyRows['two instances (PostgreSQL): on the one running it'] = across.latency.sameInstance;
    latencyRows['two instances: on the other one, over Redis'] = across.latency.otherInstance;
  }
  console.log(
    `\n8. Resume: GET /api/conversations/:id/stream → first body byte and first delta line, on answers of ${RESUMED.tokens} tokens at ${RESUMED.delayMs} ms, ${oneInstance.samples} resumes each (ms; app only: the reference relay has no resume)`,
  );
  console.table(
    Object.fromEntries(
      Object.entries(latencyRows).map(([setting, r]) => [
        setting,
        {
          'first byte p50': round(r.firstByteP50),
          'first byte p95': round(r.firstByteP95),
          'first delta p50': round(r.firstDeltaP50),
          'first delta p95': round(r.firstDeltaP95),
          'first resume, cold': round(r.coldFirstByteMs),
          failed: `${r.failed} of ${r.samples}`,
        },
      ]),
    ),
  );
  if ('skipped' in across) {
    console.log(`8. SKIPPED: resume across two instances, and what Redis and checkpoints cost an answer: ${across.skipped}`);
    return { oneInstance, acrossInstances: across };
  }
  const { redis, checkpoints } = across;
  const calls = (byName: Readonly<Record<string, number>>) =>
    Object.entries(byName)
      .sort(([, x], [, y]) => y - x)
      .map(([name, n]) => `${name} ${round(n)}`)
      .join(', ');
  console.log(
    `\n8. What Redis costs per answer (commands, bytes): ${redis.answers} answers of ${COST.tokens} tokens at ${COST.delayMs} ms (${round(redis.answerSeconds, 1)} s each) on two instances; complete streams: ${redis.completeStreams} of ${redis.streams}`,
  );
  const costRow = (cost: RedisCost) => ({
    commands: round(cost.commands),
    'bytes in': Math.round(cost.inputBytes),
    'bytes out': Math.round(cost.outputBytes),
    'commands by name': calls(cost.calls),
  });
  console.table({
    'nobody resumes it elsewhere': costRow(redis.notResumed),
    'resumed once on the other instance, after its first delta': costRow(redis.resumedOnce),
  });
  console.log("(Redis counts the GET and DEL that the directory's EVAL script runs as commands of their own.)");
  console.log(`\n8. Checkpoint writes per answer (ANSWER_CHECKPOINT_MS=${checkpoints.checkpointMs}, the same ${checkpoints.answers} answers, counted by a trigger)`);
  console.table({
    'UPDATEs of the answer row': {
      'checkpoints, mean': round(checkpoints.perAnswerMean),
      'checkpoints, min': checkpoints.perAnswerMin,
      'checkpoints, max': checkpoints.perAnswerMax,
      'final update': round(checkpoints.finalUpdatesPerAnswer),
    },
  });
  return { oneInstance, acrossInstances: across };
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const { child: upstreamProcess, match } = await spawnAndWait('dist-bench/bench/fake-upstream.js', {}, /fake upstream on (\S+)/);
  const upstream = match[1];
  const starters: PerTarget<Starter> = {
    app: () => startApp(upstream, work),
    reference: () => startRelay('reference', upstream),
    aiSdk: () => startRelay('aiSdk', upstream),
  };
  const report: Record<string, unknown> = {};
  console.log(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Each figure: the app, the reference relay (bare node:http), ` +
      'the AI SDK relay (the same server on streamText), each one\'s ratio to the reference, and whether the app is ahead of the AI SDK.',
  );
  try {
    const latency = await onAll(starters, (t) => addedLatency(t, upstream));
    table('1. Added latency (ms; client receive − upstream send): 200-token answer at 5 ms/token; 10-token answer from an instant upstream', {
      'first model line p50': row('ms', pick(latency, (r) => r.firstP50), 'lower'),
      'first model line p95': row('ms', pick(latency, (r) => r.firstP95), 'lower'),
      'last byte p50': row('ms', pick(latency, (r) => r.lastP50), 'lower'),
      'last byte p95': row('ms', pick(latency, (r) => r.lastP95), 'lower'),
      'last byte p50, 10 tokens at once': row('ms', pick(latency, (r) => r.shortLastP50), 'lower'),
      'last byte p95, 10 tokens at once': row('ms', pick(latency, (r) => r.shortLastP95), 'lower'),
    });
    report.addedLatency = latency;

    const rate = await onAll(starters, throughput);
    table('2. Relay throughput, 2,000 tokens as fast as the upstream sends', {
      'tokens per second': row('tok/s', pick(rate, (r) => r.tokensPerSecond), 'higher'),
      'CPU per 1,000 tokens': row('ms', pick(rate, (r) => r.cpuMsPer1000Tokens), 'lower'),
    });
    report.throughput = rate;

    for (const streams of [200, 1000]) {
      // Three runs, each on fresh processes; every figure is the median of the three (peak RSS
      // in particular depends on when the garbage collector happens to run).
      const runs: PerTarget<Awaited<ReturnType<typeof concurrency>>>[] = [];
      for (let run = 0; run < 3; run++) runs.push(await onAll(starters, (t) => concurrency(t, streams)));
      // Errors are not a median: every failed stream of every run counts.
      const summed = (name: TargetName) => ({
        ...medianOfEach(runs.map((r) => r[name])),
        errors: runs.reduce((sum, r) => sum + r[name].errors, 0),
      });
      const result = { app: summed('app'), reference: summed('reference'), aiSdk: summed('aiSdk') };
      table(`3. Concurrency: ${streams} simultaneous streams, 100 tokens at 20 ms (median of 3 runs)`, {
        'errors (all runs)': row('count', pick(result, (r) => r.errors), 'lower'),
        'TTFB p99': row('ms', pick(result, (r) => r.ttfbP99Ms), 'lower'),
        'CPU per request': row('ms', pick(result, (r) => r.cpuMsPerRequest), 'lower'),
        'peak RSS': row('MB', pick(result, (r) => r.peakRssMb), 'lower'),
        'RSS per stream': row('KB', pick(result, (r) => r.rssPerStreamKb), 'lower'),
      });
      // Each run's figures too, for the spread over runs.
      report[`concurrency${streams}`] = { ...result, runs };
    }

    const growth: Record<string, unknown> = {};
    const growthRows: Record<string, Row> = {};
    const sizes = [0, 1000, 5000, 10000];
    const BRANCHES = 1000;
    const bySize = await onAll(starters, async (t) => {
      const out = {} as Record<number | 'branched', Awaited<ReturnType<typeof historyGrowth>>>;
      for (const turns of sizes) out[turns] = await historyGrowth(t, turns);
      // The context walks the active path: edits and regenerations beside it must cost nothing.
      out.branched = await historyGrowth(t, 10000, BRANCHES);
      return out;
    });
    for (const turns of sizes) {
      growthRows[`POST first byte @${turns} turns`] = row('ms', pick(bySize, (r) => r[turns].firstByteMs), 'lower');
      growthRows[`POST last byte @${turns} turns`] = row('ms', pick(bySize, (r) => r[turns].lastByteMs), 'lower');
      growthRows[`GET /chat/ @${turns} turns (${2 * turns} messages)`] = row('ms', pick(bySize, (r) => r[turns].getHistoryMs), 'lower');
      growthRows[`GET …/messages?limit=50 @${turns} turns (app only)`] = row('ms', pick(bySize, (r) => r[turns].pageMs));
      growth[turns] = { app: bySize.app[turns], reference: bySize.reference[turns], aiSdk: bySize.aiSdk[turns] };
    }
    growthRows['POST last byte @10000 ÷ @0'] = row('×', pick(bySize, (r) => r[10000].lastByteMs / r[0].lastByteMs), 'lower');
    const branchedRow = `@10000 turns + ${BRANCHES} branches (app; the relays: 10000 turns)`;
    growthRows[`POST last byte ${branchedRow}`] = row('ms', pick(bySize, (r) => r.branched.lastByteMs), 'lower');
    growthRows[`GET /chat/ ${branchedRow}`] = row('ms', pick(bySize, (r) => r.branched.getHistoryMs), 'lower');
    growthRows[`GET …/messages?limit=50 @10000 turns + ${BRANCHES} branches (app only)`] = row('ms', pick(bySize, (r) => r.branched.pageMs));
    growthRows[`POST last byte ${branchedRow} ÷ @0`] = row('×', pick(bySize, (r) => r.branched.lastByteMs / r[0].lastByteMs), 'lower');
    growth[`10000+${BRANCHES}branches`] = bySize.app.branched;
    table('4. History growth: 20-token answer (no upstream delay), GET /chat/ and a page of GET …/messages, by stored turns', growthRows);
    report.historyGrowth = growth;

    const wire = await onAll(starters, wireCost);
    table(`5. Wire cost: bytes received ÷ answer bytes (${wire.app.answerBytes}-byte answer, 2,000 tokens at 1 ms)`, {
      'seed format': row('×', pick(wire, (r) => r.seedRatio), 'lower'),
      'delta format (app only)': row('×', pick(wire, (r) => r.deltaRatio)),
      'delta format, gzip (Accept-Encoding: gzip, as browsers send)': row('×', pick(wire, (r) => r.deltaGzipRatio)),
    });
    report.wireCost = wire;

    const aborts = await onAll(starters, (t) => abort(t, upstream));
    table('6. Abort: 20 clients leave after the first model line', {
      'upstream closed within 1 s': row('of 20', pick(aborts, (r) => r.closedWithinOneSecond), 'higher'),
      'slowest close': row('ms', pick(aborts, (r) => r.worstMs), 'lower'),
    });
    report.abort = aborts;

    const starts: PerTarget<Awaited<ReturnType<typeof startup>>[]> = { app: [], reference: [], aiSdk: [] };
    for (let i = 0; i < 3; i++) for (const name of TARGETS) starts[name].push(await startup(starters[name]));
    const startupOf = (name: TargetName) => ({
      firstAnswerMs: median(starts[name].map((s) => s.firstAnswerMs)),
      idleRssMb: median(starts[name].map((s) => s.idleRssMb)),
    });
    const startupResult = { app: startupOf('app'), reference: startupOf('reference'), aiSdk: startupOf('aiSdk') };
    table('7. Start-up (median of 3)', {
      'process start → first answered request': row('ms', pick(startupResult, (r) => r.firstAnswerMs), 'lower'),
      'idle RSS': row('MB', pick(startupResult, (r) => r.idleRssMb), 'lower'),
    });
    report.startup = startupResult;

    report.resume = await resume(starters.app, upstream);
    report.toolStep = await toolStep(() => startApp(upstream, work, { AGENT_TOOLS: 'current_time' }), upstream);
    report.observability = await measureObservability(upstream, work); // 10. (bench/observability.ts)
  } finally {
    await stopChild(upstreamProcess);
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nBench took ${Math.round((Date.now() - benchStarted) / 1000)} s.`);
  console.log(JSON.stringify({ bench: 'nest-chat-app', node: process.version, cpus: cpus().length, ...report }, (_, v: unknown) => (typeof v === 'number' ? round(v, 3) : v)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
