import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { type DataPoint, type Histogram, type MetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resetChatMetrics } from '../../src/telemetry/gen-ai-metrics.js';
import { markTelemetryStarted, shutdownTelemetry, type TelemetryPlan } from '../../src/telemetry/telemetry-config.js';

/** A reader that collects on demand (a test asks; nothing runs on a timer). */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface InMemoryTelemetry {
  /** Spans ended so far. */
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
  /** The metric named `name` as collected now, or undefined when nothing was recorded in it. */
  metric(name: string): Promise<MetricData | undefined>;
  reset(): void;
  shutdown(): Promise<void>;
}

/**
 * The real Node SDK (as telemetry/sdk.ts starts it, without exporters and instrumentations),
 * with every span kept in memory and metrics collected when asked: what the app's telemetry
 * code sees in production, read back by a test.
 */
export function startInMemoryTelemetry(plan: Partial<TelemetryPlan> = {}): InMemoryTelemetry {
  // The API keeps the first registration for good; a test's SDK replaces the last test's.
  for (const api of [trace, metrics, context, propagation]) api.disable();
  const exporter = new InMemorySpanExporter();
  const reader = new OnDemandReader();
  const sdk = new NodeSDK({
    autoDetectResources: false,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    metricReaders: [reader],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  resetChatMetrics();
  markTelemetryStarted({ traces: true, metrics: true, prometheus: undefined, captureMessageContent: false, ...plan }, () => sdk.shutdown());
  return {
    spans: () => exporter.getFinishedSpans(),
    span: (name) => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`${found.length} spans named ${JSON.stringify(name)}; ended: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
      return found[0];
    },
    metric: async (name) => {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === name);
    },
    reset: () => exporter.reset(),
    shutdown: () => shutdownTelemetry(),
  };
}

/** A histogram's data points, each as its attributes and count. */
export function histogramPoints(metric: MetricData | undefined): { attributes: Record<string, unknown>; count: number; sum: number | undefined }[] {
  return ((metric?.dataPoints ?? []) as DataPoint<Histogram>[]).map((point) => ({ attributes: point.attributes, count: point.value.count, sum: point.value.sum }));
}

/** A counter's data points, each as its attributes and value. */
export function sumPoints(metric: MetricData | undefined): { attributes: Record<string, unknown>; value: number }[] {
  return ((metric?.dataPoints ?? []) as DataPoint<number>[]).map((point) => ({ attributes: point.attributes, value: point.value }));
}
