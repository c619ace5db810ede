// The bench's third target: the seed contract on bare node:http (bench/seed-relay.ts, the same
// server as the reference relay's) with the model called through the Vercel AI SDK, as its
// documentation shows it: `streamText` with `@ai-sdk/openai-compatible`, its text read from
// `textStream`, the client leaving aborts it through `abortSignal`. Defaults otherwise (the
// SDK's own fetch), except no retries, as the app is run in the bench (UPSTREAM_RETRIES=0).
//
//   UPSTREAM_URL=http://127.0.0.1:8000/v1 PORT=0 node dist-bench/bench/ai-sdk-relay.js
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import { serveSeedRelay } from './seed-relay.js';

const provider = createOpenAICompatible({ name: 'bench', baseURL: process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1' });
const model = provider.chatModel('bench');
let reported = false;

serveSeedRelay('AI SDK relay', (turns, sink) => {
  const abort = new AbortController();
  let failed = false;
  const result = streamText({
    model,
    messages: [...turns],
    maxRetries: 0,
    abortSignal: abort.signal,
    onError: ({ error }) => {
      failed = true;
      // Once, so that a failing run says why without a line per stream.
      if (!reported) console.error(`AI SDK relay: a model call failed (the first; more may follow): ${error instanceof Error ? error.message : String(error)}`);
      reported = true;
    },
  });
  (async () => {
    for await (const delta of result.textStream) sink.text(delta);
  })().then(
    () => {
      if (abort.signal.aborted) return;
      if (failed) sink.fail();
      else sink.end();
    },
    () => {
      if (!abort.signal.aborted) sink.fail();
    },
  );
  return () => abort.abort();
});
