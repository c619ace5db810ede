import { Redis } from 'ioredis';
import { wordTokens } from '../test/support/fake-openai.js';
import {
  type AppProcess,
  createBenchDatabase,
  median,
  percentile,
  type Service,
  shownPostgresUrl,
  sleep,
  startBuiltApp,
  startRedisServer,
  streamRequest,
  type StreamResult,
  withPostgres,
} from './support.js';

/**
 * Scenario 8, resume (app only: the reference relay has no resume). What reattaching to a
 * running answer costs its reader, on one instance and from another instance over Redis, and
 * what Redis and the checkpoints cost an answer when several instances share one PostgreSQL.
 */

/** From sending `GET …/stream` to the first byte of its body and to its first delta line. */
export interface ResumeLatency {
  readonly samples: number;
  readonly failed: number;
  /** The first resume on a fresh process: compiles its code path; on another instance, also connects its Redis subscriber. */
  readonly coldFirstByteMs: number;
  readonly firstByteP50: number;
  readonly firstByteP95: number;
  readonly firstDeltaP50: number;
  readonly firstDeltaP95: number;
}

/** Redis's own counters (INFO stats, INFO commandstats), per answer. */
export interface RedisCost {
  readonly commands: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
  /** Commands per answer by name. */
  readonly calls: Readonly<Record<string, number>>;
}

export interface AcrossInstances {
  readonly latency: { readonly sameInstance: ResumeLatency; readonly otherInstance: ResumeLatency };
  readonly redis: {
    readonly answers: number;
    /** Median time from an answer's first delta to its end, as its asking reader saw it. */
    readonly answerSeconds: number;
    readonly notResumed: RedisCost;
    readonly resumedOnce: RedisCost;
    /** Streams (asking and resuming readers) that ended with the whole text and `done`. */
    readonly completeStreams: number;
    readonly streams: number;
  };
  readonly checkpoints: {
    readonly checkpointMs: number;
    readonly answers: number;
    readonly perAnswerMean: number;
    readonly perAnswerMin: number;
    readonly perAnswerMax: number;
    readonly finalUpdatesPerAnswer: number;
  };
}

export interface Skipped {
  readonly skipped: string;
}

const RESUMED_ANSWERS = 4;
const RESUME_SAMPLES = 20;
const RESUME_WARM_UPS = 3;
// 8 s: every sample, spaced out so that the text so far grows, finds its answer still running.
export const RESUMED = { tokens: 400, delayMs: 20 } as const;
const RESUMED_PROMPT = `resume tokens=${RESUMED.tokens} delay=${RESUMED.delayMs}`;

// 10 s: the answer length the checkpoint figure is stated for.
export const COST = { answers: 20, tokens: 500, delayMs: 20 } as const;
const COST_PROMPT = `redis cost tokens=${COST.tokens} delay=${COST.delayMs}`;
const CHECKPOINT_MS = 1000;

async function createConversation(url: string): Promise<string> {
  const response = await fetch(`${url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (response.status !== 201) throw new Error(`creating a conversation on ${url} answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

const ask = (url: string, conversationId: string, prompt: string, options: { leaveAfterFirstModelLine?: boolean; onFirstModelLine?: () => void } = {}) =>
  streamRequest(`${url}/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify({ prompt }),
    ...options,
  });

const resume = (url: string, conversationId: string, options: { leaveAfterFirstModelLine?: boolean } = {}) =>
  streamRequest(`${url}/api/conversations/${conversationId}/stream`, options);

const stop = (url: string, conversationId: string) =>
  fetch(`${url}/api/conversations/${conversationId}/stop`, { method: 'POST' }).catch(() => undefined);

/** Whether a delta stream carries the whole answer and ends with `done`. */
function isComplete(result: StreamResult, expected: string): boolean {
  if (result.status !== 200 || result.error) return false;
  const events = result.text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { type: string; text?: string });
  return events.at(-1)?.type === 'done' && events.map((e) => (e.type === 'delta' ? e.text : '')).join('') === expected;
}

/**
 * Starts answers on `startOn` (the asking reader leaves after the first delta, as a reload
 * does) and resumes them on each of `resumeOn` in turn, one request at a time, each reader
 * leaving after its first delta. The answers are stopped at the end.
 */
export async function measureResumes<K extends string>(startOn: string, resumeOn: Record<K, string>): Promise<Record<K, ResumeLatency>> {
  const ids = await Promise.all(
    Array.from({ length: RESUMED_ANSWERS }, async () => {
      const id = await createConversation(startOn);
      const started = await ask(startOn, id, RESUMED_PROMPT, { leaveAfterFirstModelLine: true });
      if (!started.firstModelLineAt) throw new Error(`an answer to resume did not start on ${startOn}: ${started.status} ${started.error ?? started.text}`);
      return id;
    }),
  );
  const targets = Object.entries(resumeOn) as [K, string][];
  const once = async (url: string, i: number) => {
    const result = await resume(url, ids[i % ids.length], { leaveAfterFirstModelLine: true });
    return result.status === 200 && result.firstModelLineAt
      ? { firstByteMs: result.firstByteAt - result.startedAt, firstDeltaMs: result.firstModelLineAt - result.startedAt }
      : undefined;
  };
  try {
    const cold = {} as Record<K, number>;
    for (const [name, url] of targets) cold[name] = (await once(url, 0))?.firstByteMs ?? NaN;
    for (let i = 0; i < RESUME_WARM_UPS; i++) for (const [, url] of targets) await once(url, i);
    const samples = Object.fromEntries(targets.map(([name]) => [name, { firstByte: [] as number[], firstDelta: [] as number[], failed: 0 }])) as Record<
      K,
      { firstByte: number[]; firstDelta: number[]; failed: number }
    >;
    for (let i = 0; i < RESUME_SAMPLES; i++) {
      // Taking turns, so that every target is measured under the same load.
      for (const [name, url] of targets) {
        const result = await once(url, i);
        if (!result) samples[name].failed++;
        else {
          samples[name].firstByte.push(result.firstByteMs);
          samples[name].firstDelta.push(result.firstDeltaMs);
        }
      }
      await sleep(50);
    }
    return Object.fromEntries(
      targets.map(([name]) => {
        const s = samples[name];
        return [
          name,
          {
            samples: RESUME_SAMPLES,
            failed: s.failed,
            coldFirstByteMs: cold[name],
            firstByteP50: median(s.firstByte),
            firstByteP95: percentile(s.firstByte, 95),
            firstDeltaP50: median(s.firstDelta),
            firstDeltaP95: percentile(s.firstDelta, 95),
          } satisfies ResumeLatency,
        ];
      }),
    ) as Record<K, ResumeLatency>;
  } finally {
    // They would otherwise run on (and, once resumed elsewhere, publish) into what is measured next.
    await Promise.all(ids.map((id) => stop(startOn, id)));
  }
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/**
 * Two dist/main.js processes on a fresh PostgreSQL database and a redis-server of the bench's
 * own: resume latency on the instance running the answer and on the other one, then what Redis
 * and the checkpoints cost per answer. Skipped, with the reason, when either service is missing.
 * Every process is stopped and the database dropped at the end, on failure and on Ctrl-C too.
 * `env` is what each instance gets besides its database and Redis: the bench's model server
 * included (without one the app would answer offline).
 */
export async function acrossInstances(env: Record<string, string>): Promise<AcrossInstances | Skipped> {
  // Stopped in reverse: the instances before Redis and the database they use.
  const running: Service[] = [];
  const teardown = async () => {
    for (const service of running.splice(0).reverse()) {
      await service.stop().catch((error: unknown) => console.error(`bench teardown: ${errorText(error)}`));
    }
  };
  const onSignal = () => void teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    try {
      running.push(await startRedisServer());
    } catch (error) {
      return { skipped: `redis-server is not available: ${errorText(error)}` };
    }
    const redisUrl = running[0].url;
    try {
      running.push(await createBenchDatabase());
    } catch (error) {
      return { skipped: `PostgreSQL at ${shownPostgresUrl()} is not available (set TEST_POSTGRES_URL): ${errorText(error)}` };
    }
    const databaseUrl = running[1].url;
    const appEnv = { ...env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, ANSWER_CHECKPOINT_MS: String(CHECKPOINT_MS) };
    const started = await Promise.allSettled([startBuiltApp(appEnv), startBuiltApp(appEnv)]);
    for (const each of started) if (each.status === 'fulfilled') running.push(each.value);
    const failed = started.find((each) => each.status === 'rejected');
    if (failed) throw failed.reason;
    const [a, b] = started.map((each) => (each as PromiseFulfilledResult<AppProcess>).value);

    try {
      const latency = await measureResumes(a.url, { sameInstance: a.url, otherInstance: b.url });
      const { redis, checkpoints } = await redisAndCheckpoints(a.url, b.url, redisUrl, databaseUrl);
      return { latency, redis, checkpoints };
    } catch (error) {
      // The instances' own account of what went wrong, before they are stopped.
      for (const [name, app] of [['A', a], ['B', b]] as const) console.error(`instance ${name}'s log, last lines:\n${app.log().split('\n').slice(-30).join('\n')}`);
      throw error;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }
}

interface RedisCounters {
  readonly commands: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
  readonly calls: Readonly<Record<string, number>>;
}

async function redisCounters(client: Redis): Promise<RedisCounters> {
  const stats = await client.info('stats');
  const commandStats = await client.info('commandstats');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? NaN);
  return {
    commands: field('total_commands_processed'),
    inputBytes: field('total_net_input_bytes'),
    outputBytes: field('total_net_output_bytes'),
    calls: Object.fromEntries([...commandStats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])])),
  };
}

function difference(after: RedisCounters, before: RedisCounters): RedisCounters {
  return {
    commands: after.commands - before.commands,
    inputBytes: after.inputBytes - before.inputBytes,
    outputBytes: after.outputBytes - before.outputBytes,
    calls: Object.fromEntries(Object.entries(after.calls).map(([name, calls]) => [name, calls - (before.calls[name] ?? 0)])),
  };
}

/**
 * Answers nobody resumes, then answers each resumed once on the other instance right after its
 * first delta (so nearly all of it crosses Redis), all read to their end; Redis's counters
 * before and after each batch, less what reading them costs. A trigger counts the checkpoints.
 */
async function redisAndCheckpoints(a: string, b: string, redisUrl: string, databaseUrl: string): Promise<Pick<AcrossInstances, 'redis' | 'checkpoints'>> {
  // pg_stat_user_tables would do without a trigger, but each backend reports its counts at most
  // once a second and, once idle, up to 10 s later (PostgreSQL 15): a read right after the
  // answers would come up short.
  await withPostgres(databaseUrl, (client) =>
    client.query(`
      CREATE TABLE bench_message_updates (message_id bigint NOT NULL, streaming boolean NOT NULL);
      CREATE FUNCTION bench_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO bench_message_updates VALUES (NEW.id, NEW.status = 'streaming'); RETURN NULL; END $$;
      CREATE TRIGGER bench_count_update AFTER UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION bench_count_update();
    `),
  );
  const expected = wordTokens(COST.tokens).join('');
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const first = await redisCounters(client);
    const reading = difference(await redisCounters(client), first);
    const seconds: number[] = [];
    let completeStreams = 0;
    const incomplete: string[] = [];
    let streams = 0;
    const batch = async (resumeOn?: string): Promise<RedisCost> => {
      const ids = await Promise.all(Array.from({ length: COST.answers }, () => createConversation(a)));
      const before = await redisCounters(client);
      await Promise.all(
        ids.map(async (id) => {
          let resumed: Promise<StreamResult> | undefined;
          const asked = await ask(a, id, COST_PROMPT, {
            onFirstModelLine: () => {
              if (resumeOn) resumed = resume(resumeOn, id);
            },
          });
          seconds.push((asked.endAt - asked.firstModelLineAt) / 1000);
          for (const [reader, result] of [['asking', asked] as const, ['resuming', await resumed] as const]) {
            if (!result) continue;
            streams++;
            if (isComplete(result, expected)) completeStreams++;
            else incomplete.push(`${reader} reader: ${result.status} ${result.error ?? ''} …${result.text.slice(-300)}`);
          }
        }),
      );
      // The directory entry is deleted once the answer is stored, after its last event went out.
      await sleep(500);
      const used = difference(difference(await redisCounters(client), before), reading);
      const perAnswer = (n: number) => n / COST.answers;
      return {
        commands: perAnswer(used.commands),
        inputBytes: perAnswer(used.inputBytes),
        outputBytes: perAnswer(used.outputBytes),
        calls: Object.fromEntries(
          Object.entries(used.calls)
            .filter(([name, calls]) => name !== 'info' && calls > 0)
            .map(([name, calls]) => [name, perAnswer(calls)]),
        ),
      };
    };
    const notResumed = await batch();
    const resumedOnce = await batch(b);
    // What an answer that failed or was cut short costs says nothing about one that streamed.
    if (completeStreams < streams) {
      throw new Error(`only ${completeStreams} of ${streams} streams of the Redis-cost answers carried the whole answer and done; the first that did not: ${incomplete[0]}`);
    }
    const perAnswer = await withPostgres(databaseUrl, async (pgClient) =>
      (
        await pgClient.query<{ checkpoints: number; finals: number }>(
          `SELECT count(*) FILTER (WHERE streaming)::int AS checkpoints, count(*) FILTER (WHERE NOT streaming)::int AS finals
             FROM bench_message_updates GROUP BY message_id`,
        )
      ).rows,
    );
    const checkpoints = perAnswer.map((row) => row.checkpoints);
    return {
      redis: { answers: COST.answers, answerSeconds: median(seconds), notResumed, resumedOnce, completeStreams, streams },
      checkpoints: {
        checkpointMs: CHECKPOINT_MS,
        answers: perAnswer.length,
        perAnswerMean: checkpoints.reduce((sum, n) => sum + n, 0) / perAnswer.length,
        perAnswerMin: Math.min(...checkpoints),
        perAnswerMax: Math.max(...checkpoints),
        finalUpdatesPerAnswer: perAnswer.reduce((sum, row) => sum + row.finals, 0) / perAnswer.length,
      },
    };
  } finally {
    client.disconnect();
  }
}
