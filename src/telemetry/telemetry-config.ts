/**
 * Which OpenTelemetry signals to export, read from the standard OTEL_* variables only. Pure and
 * free of OpenTelemetry imports: main.ts reads it before anything else is loaded, and loads the
 * SDK only when something is to be exported (README, "Observability").
 */

type Env = Record<string, string | undefined>;

export interface TelemetryPlan {
  /** Spans are exported (OTEL_TRACES_EXPORTER, or an OTLP endpoint with no exporter named). */
  readonly traces: boolean;
  /** Metrics are exported (OTEL_METRICS_EXPORTER, or an OTLP endpoint with no exporter named). */
  readonly metrics: boolean;
  /** OTEL_METRICS_EXPORTER names `prometheus`: its own scrape endpoint. */
  readonly prometheus: { readonly port: number } | undefined;
  /** OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true: prompts and answers on spans. Off by default. */
  readonly captureMessageContent: boolean;
}

function list(env: Env, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * A signal is exported when its OTEL_*_EXPORTER names an exporter other than `none`, or, when that
 * variable is unset, when an OTLP endpoint is set for it (the SDK's default exporter is OTLP).
 * Unlike the SDK's own default, nothing is exported when nothing is configured: an app that was
 * not told where to send telemetry sends none, and does not load the SDK.
 */
export function telemetryPlan(env: Env = process.env): TelemetryPlan {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const endpointFor = (signal: 'TRACES' | 'METRICS') =>
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]?.trim());
  const wanted = (exporters: string[] | undefined, signal: 'TRACES' | 'METRICS') =>
    !disabled && (exporters === undefined ? endpointFor(signal) : !exporters.includes('none') && exporters.length > 0);
  const metricExporters = list(env, 'OTEL_METRICS_EXPORTER');
  const metrics = wanted(metricExporters, 'METRICS');
  const port = Number(env.OTEL_EXPORTER_PROMETHEUS_PORT?.trim() || 9464);
  return {
    traces: wanted(list(env, 'OTEL_TRACES_EXPORTER'), 'TRACES'),
    metrics,
    prometheus:
      metrics && metricExporters?.includes('prometheus')
        ? { port: Number.isInteger(port) && port > 0 ? port : 9464 }
        : undefined,
    captureMessageContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true',
  };
}

/** Whether the SDK is worth loading at all. */
export function wantsTelemetry(plan: TelemetryPlan): boolean {
  return plan.traces || plan.metrics;
}

let started: { readonly plan: TelemetryPlan; readonly shutdown: () => Promise<void> } | undefined;

/** Called by the SDK's start-up (telemetry/sdk.ts) once it runs, with what flushes and stops it. */
export function markTelemetryStarted(plan: TelemetryPlan, shutdown: () => Promise<void>): void {
  started = { plan, shutdown };
}

/** What the running SDK exports; undefined when it was not loaded (then the OpenTelemetry API is a no-op). */
export function startedTelemetry(): TelemetryPlan | undefined {
  return started?.plan;
}

/** Exports what is still buffered and stops the SDK, if it runs; at the app's shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  const running = started;
  started = undefined;
  await running?.shutdown();
}
