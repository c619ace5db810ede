import { holdYoungGeneration } from './common/start-up-heap.js';
import { telemetryPlan, wantsTelemetry } from './telemetry/telemetry-config.js';

/**
 * The entry point (dist/main.js, what `nest start` runs). OpenTelemetry must start before the
 * modules it instruments are loaded, and ESM loads every static import before any code runs, so
 * the app is imported only here, dynamically, after the SDK (README, "Observability"). Without an
 * exporter configured the SDK is not even imported. The young generation's growth is held back
 * until the app listens (src/common/start-up-heap.ts).
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
await import('./bootstrap.js');
