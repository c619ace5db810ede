/** What load balancers and orchestrators poll: liveness, and readiness. Free of imports: telemetry/sdk.ts reads it before the app loads. */
export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

const PROBE_PATHS = new Set([HEALTH_PATH, `${HEALTH_PATH}/`, READY_PATH, `${READY_PATH}/`]);

/** Whether `path` (no query) is a probe: no identity, no Host check, no rate limit, no span, and its access line at debug level. */
export function isProbePath(path: string): boolean {
  return PROBE_PATHS.has(path);
}
