import { telemetryPlan, wantsTelemetry } from './telemetry-config.js';

describe('telemetryPlan', () => {
  it('exports nothing, and loads no SDK, when nothing is configured (unlike the SDK, which would default to OTLP on localhost)', () => {
    const plan = telemetryPlan({});
    expect(plan).toEqual({ traces: false, metrics: false, prometheus: undefined, captureMessageContent: false });
    expect(wantsTelemetry(plan)).toBe(false);
  });

  it('an OTLP endpoint alone exports both signals over OTLP; a signal’s own endpoint only that signal', () => {
    expect(telemetryPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({ traces: true, metrics: true });
    expect(telemetryPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toMatchObject({ traces: true, metrics: false });
    expect(telemetryPlan({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics' })).toMatchObject({ traces: false, metrics: true });
  });

  it('an exporter named per signal; `none` turns a signal off, even with an endpoint', () => {
    expect(telemetryPlan({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ traces: true, metrics: false });
    expect(telemetryPlan({ OTEL_TRACES_EXPORTER: 'console' })).toMatchObject({ traces: true });
    expect(telemetryPlan({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({ traces: false, metrics: true });
    expect(telemetryPlan({ OTEL_TRACES_EXPORTER: ' ', OTEL_METRICS_EXPORTER: '' })).toMatchObject({ traces: false, metrics: false });
  });

  it('prometheus: its port (9464 unless OTEL_EXPORTER_PROMETHEUS_PORT says)', () => {
    expect(telemetryPlan({ OTEL_METRICS_EXPORTER: 'prometheus' })).toMatchObject({ traces: false, metrics: true, prometheus: { port: 9464 } });
    expect(telemetryPlan({ OTEL_METRICS_EXPORTER: 'otlp,Prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: '9999' }).prometheus).toEqual({ port: 9999 });
    expect(telemetryPlan({ OTEL_METRICS_EXPORTER: 'otlp' }).prometheus).toBeUndefined();
  });

  it('OTEL_SDK_DISABLED=true wins over everything', () => {
    expect(wantsTelemetry(telemetryPlan({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'prometheus' }))).toBe(false);
  });

  it('message content only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true', () => {
    expect(telemetryPlan({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }).captureMessageContent).toBe(true);
    expect(telemetryPlan({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: '1' }).captureMessageContent).toBe(false);
  });
});
