import { type Attributes, type Counter, type Histogram, metrics, type UpDownCounter } from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE } from './gen-ai-conventions.js';

/** The GenAI client metrics (with the conventions' advised buckets) and this app's answer counts. */
export interface ChatMetrics {
  /** `gen_ai.client.token.usage`: tokens per model call, by `gen_ai.token.type` (input, output). */
  readonly tokenUsage: Histogram<Attributes>;
  /** `gen_ai.client.operation.duration`: a model call, in seconds; with `error.type` when it failed. */
  readonly operationDuration: Histogram<Attributes>;
  /** `gen_ai.client.operation.time_to_first_chunk`: from the request to the first chunk, in seconds. */
  readonly timeToFirstChunk: Histogram<Attributes>;
  /** `chat.answers`: answers ended, by `chat.answer.status`. */
  readonly answers: Counter<Attributes>;
  /** `chat.answers.streaming`: answers running now. */
  readonly answersStreaming: UpDownCounter<Attributes>;
}

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const SECONDS_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

let instruments: ChatMetrics | undefined;

/**
 * Made on first use, from the meter provider registered then: the API's meters are not proxies,
 * so instruments made before the SDK started would stay no-ops. Without the SDK they are no-ops.
 */
export function chatMetrics(): ChatMetrics {
  if (instruments) return instruments;
  const meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
  instruments = {
    tokenUsage: meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    }),
    operationDuration: meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    timeToFirstChunk: meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', {
      description: 'Time to receive the first chunk of a streamed response',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    answers: meter.createCounter('chat.answers', { description: 'Answers ended, by final status', unit: '{answer}' }),
    answersStreaming: meter.createUpDownCounter('chat.answers.streaming', { description: 'Answers running now', unit: '{answer}' }),
  };
  return instruments;
}

/** For tests that install a new meter provider: the next call makes the instruments again. */
export function resetChatMetrics(): void {
  instruments = undefined;
}
