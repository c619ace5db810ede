import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { wordTokens } from '../test/support/fake-openai.js';
import { cpuMs, epochMs, median, postPrompt, round, rssMb, sleep, spawnAndWait, startBuiltApp, stopChild, streamRequest } from './support.js';

/**
 * Scenario 10, what OpenTelemetry costs the app (app only): CPU per request at 200 simultaneous
 * streams (100 tokens at 20 ms, as scenario 3) and idle RSS, with no exporter configured (the SDK
 * is not even loaded), with every request traced (100 % sampled, OTLP over HTTP to a local sink,
 * the protocol's default protobuf), and with traces and metrics both exported. Each figure is
 * the median of three runs on fresh processes. `npm run bench` runs it last; alone:
 * `node dist-bench/bench/observability.js` after `npm run build && tsc -p tsconfig.bench.json`.
 */

const STREAMS = 200;
const RUNS = 3;

type Setting = 'off' | 'traces' | 'traces + metrics';

interface Sink {
  readonly endpoint: string;
  /** Export requests received so far. */
  readonly requests: () => number;
  close(): Promise<void>;
}

/** A local OTLP/HTTP endpoint that takes every export (any protocol) and answers 200, as a collector would. */
async function startSink(): Promise<Sink> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function envFor(setting: Setting, sink: Sink): Record<string, string> {
  if (setting === 'off') return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_METRICS_EXPORTER: setting === 'traces' ? 'none' : 'otlp',
    // Metrics every 5 s instead of 60, so that an export falls inside each measurement.
    OTEL_METRIC_EXPORT_INTERVAL: '5000',
  };
}

async function startApp(upstream: string, work: string, setting: Setting, sink: Sink) {
  return startBuiltApp({
    CHAT_DEBOUNCE_MS: '10',
    UPSTREAM_RETRIES: '0',
    OPENAI_BASE_URL: upstream,
    OPENAI_MODEL: 'bench',
    DATABASE_URL: join(work, `otel-${Date.now()}.sqlite`),
    LOG_FORMAT: 'json',
    ...envFor(setting, sink),
  });
}

async function onePass(upstream: string, work: string, setting: Setting, sink: Sink) {
  const started = epochMs();
  const app = await startApp(upstream, work, setting, sink);
  const pid = app.child.pid!;
  try {
    for (;;) {
      if ((await streamRequest(`${app.url}/chat/`)).status === 200) break;
      await sleep(5);
    }
    const firstAnswerMs = epochMs() - started;
    await sleep(1000);
    const idleRssMb = rssMb(pid);
    await Promise.all(Array.from({ length: 100 }, (_, i) => postPrompt(app.url, `warm ${i} tokens=50 delay=2`)));
    const exportsBefore = sink.requests();
    const cpuBefore = cpuMs(pid);
    const expected = wordTokens(100).join('');
    const results = await Promise.all(Array.from({ length: STREAMS }, (_, i) => postPrompt(app.url, `otel ${i} tokens=100 delay=20`)));
    // The CPU counted includes exporting these requests' spans: the batch processor sends every
    // 5 s (OTEL_BSP_SCHEDULE_DELAY), so the count ends after that (for every setting alike).
    await sleep(6000);
    const cpuMsPerRequest = (cpuMs(pid) - cpuBefore) / STREAMS;
    const errors = results.filter((r) => r.status !== 200 || r.error || !r.text.trimEnd().endsWith(`${JSON.stringify(expected)}}`)).length;
    return { firstAnswerMs, idleRssMb, cpuMsPerRequest, errors, exports: sink.requests() - exportsBefore };
  } finally {
    await app.stop();
  }
}

/** Runs scenario 10 against the fake upstream at `upstream`; prints its table and returns its figures. */
export async function measureObservability(upstream: string, work: string) {
  const sink = await startSink();
  try {
    const settings: Setting[] = ['off', 'traces', 'traces + metrics'];
    const runs = new Map<Setting, Awaited<ReturnType<typeof onePass>>[]>(settings.map((s) => [s, []]));
    // Interleaved, so that a change in the machine's load falls on every setting alike.
    for (let run = 0; run < RUNS; run++) for (const setting of settings) runs.get(setting)!.push(await onePass(upstream, work, setting, sink));
    const result = Object.fromEntries(
      settings.map((setting) => {
        const passes = runs.get(setting)!;
        return [
          setting,
          {
            cpuMsPerRequest: median(passes.map((p) => p.cpuMsPerRequest)),
            idleRssMb: median(passes.map((p) => p.idleRssMb)),
            firstAnswerMs: median(passes.map((p) => p.firstAnswerMs)),
            errors: passes.reduce((sum, p) => sum + p.errors, 0),
            exportRequests: median(passes.map((p) => p.exports)),
          },
        ];
      }),
    ) as Record<Setting, { cpuMsPerRequest: number; idleRssMb: number; firstAnswerMs: number; errors: number; exportRequests: number }>;
    const off = result.off;
    console.log(`\n10. OpenTelemetry's cost: ${STREAMS} simultaneous streams, 100 tokens at 20 ms; traces 100 % sampled, OTLP (http/protobuf) to a local sink (median of ${RUNS} runs; app only)`);
    console.table(
      Object.fromEntries(
        settings.map((setting) => {
          const r = result[setting];
          return [
            setting === 'off' ? 'off (no exporter: SDK not loaded)' : setting,
            {
              'CPU per request (ms)': round(r.cpuMsPerRequest),
              'vs off': round(r.cpuMsPerRequest / off.cpuMsPerRequest),
              'idle RSS (MB)': round(r.idleRssMb, 1),
              'start → first answer (ms)': Math.round(r.firstAnswerMs),
              'export requests': r.exportRequests,
              'errors (all runs)': r.errors,
            },
          ];
        }),
      ),
    );
    return result;
  } finally {
    await sink.close();
  }
}

// Alone: its own fake upstream and temp folder.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const work = mkdtempSync(join(tmpdir(), 'chat-bench-otel-'));
  const { child, match } = await spawnAndWait('dist-bench/bench/fake-upstream.js', {}, /fake upstream on (\S+)/);
  try {
    console.log(JSON.stringify({ observability: await measureObservability(match[1], work) }));
  } finally {
    await stopChild(child);
    rmSync(work, { recursive: true, force: true });
  }
}
