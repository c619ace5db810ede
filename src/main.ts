import { withDeferredDateFormats } from './common/deferred-date-formats.js';
import { holdYoungGeneration } from './common/start-up-heap.js';
import { telemetryPlan, wantsTelemetry } from './telemetry/telemetry-config.js';

/**
 * The entry point (dist/main.js, what `nest start` runs). OpenTelemetry must start before the
 * modules it instruments are loaded, and ESM loads every static import before any code runs, so
 * the app is imported only here, dynamically, after the SDK (README, "Observability"). Without an
 * exporter configured the SDK is not even imported. The young generation's growth is held back
 * until the app listens (src/common/start-up-heap.ts), and ICU's date data stays unloaded unless a
 * date is formatted (src/common/deferred-date-formats.ts).
 */
holdYoungGeneration();
const plan = telemetryPlan();
if (wantsTelemetry(plan)) {
  try {
    const { startTelemetry } = await import('./telemetry/sdk.js');
    await startTelemetry(plan);
  } catch (error) {
    console.error('OpenTelemetry could not start; the app runs without it:', error instanceof Error ? error.message : error);
  }
}
await withDeferredDateFormats(() => import('@nestjs/common'));
await import('./bootstrap.js');
