import { createRequire, register } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { isProbePath } from '../common/probe-paths.js';
import { markTelemetryStarted, type TelemetryPlan } from './telemetry-config.js';

/**
 * Starts the OpenTelemetry Node SDK, configured by the standard OTEL_* variables, with the
 * instrumentations for http, express, pg and ioredis (instrumentation-nestjs-core is left out:
 * its 0.70 patches @nestjs/core below 12 only; the express one names each request's route). main.ts imports this module (and so
 * the SDK) only when `plan` exports something, and imports the app only after this resolves.
 *
 * The app is ESM: instrumentations patch CommonJS modules through require hooks, but an ESM
 * `import` (ioredis from redis.service, `node:http` from the model driver) only through the
 * import-in-the-middle loader hook, which must be registered before those modules are loaded.
 * It is registered here with the message channel that limits it to the modules the
 * instrumentations name; every other module loads untouched.
 */
export async function startTelemetry(plan: TelemetryPlan): Promise<{ shutdown(): Promise<void> }> {
  // The import-in-the-middle instance the instrumentations use: its hook list is what the loader hook asks for.
  const fromInstrumentation = createRequire(createRequire(import.meta.url).resolve('@opentelemetry/instrumentation'));
  const iitm = fromInstrumentation('import-in-the-middle') as typeof import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = iitm.createAddHookMessageChannel();
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, registerOptions);

  const [{ NodeSDK }, { HttpInstrumentation }, { ExpressInstrumentation, ExpressLayerType }, { PgInstrumentation }, { IORedisInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);

  const prometheusPort = plan.prometheus?.port;
  const sdk = new NodeSDK({
    // Without OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) the SDK says `unknown_service:node`.
    ...(!process.env.OTEL_SERVICE_NAME && !/(^|,)\s*service\.name=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? '') && { serviceName: 'nest-chat-app' }),
    // A signal left unconfigured exports nothing (the SDK alone would default it to OTLP on localhost).
    ...(!plan.traces && { spanProcessors: [] }),
    ...(!plan.metrics && { metricReaders: [] }),
    // Logs go to stdout (LOG_FORMAT), not through OpenTelemetry.
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes are polled every few seconds (a span each would drown the traces that matter), and so is the scrape endpoint.
        ignoreIncomingRequestHook: (request: IncomingMessage) =>
          isProbePath((request.url ?? '').split('?')[0]) || (prometheusPort !== undefined && request.socket.localPort === prometheusPort),
      }),
      // Only the route handlers: a span per middleware (helmet, body parsers, …) says little and costs much.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      // Background work (recovery sweeps, Redis key renewals) would each be a trace of its own.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The loader hook must know every instrumented module before the app's modules are imported.
  await waitForAllMessagesAcknowledged();
  markTelemetryStarted(plan, () => sdk.shutdown());
  return sdk;
}
