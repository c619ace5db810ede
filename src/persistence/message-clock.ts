import { performance } from 'node:perf_hooks';

let lastMicros = 0;

/**
 * ISO 8601 timestamps with microsecond precision, strictly increasing within the process.
 * The seed page uses the timestamp as an element id, so two messages in the same
 * millisecond (a prompt and the start of its answer, typically) must never share one.
 */
export function nextTimestamp(): string {
  const nowMicros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastMicros = Math.max(nowMicros, lastMicros + 1);
  return formatMicros(lastMicros);
}

export function formatMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, -1)}${String(micros % 1000).padStart(3, '0')}Z`;
}

/**
 * The timestamp one microsecond after an ISO 8601 timestamp written by formatMicros (or the
 * current time, for a value that is not one).
 */
export function timestampAfter(timestamp: string): string {
  const millis = Date.parse(`${timestamp.slice(0, 23)}Z`);
  if (Number.isNaN(millis)) return nextTimestamp();
  const micros = Number(timestamp.slice(23, 26)) || 0;
  return formatMicros(millis * 1000 + micros + 1);
}
