import { formatMicros, nextTimestamp, timestampAfter } from './message-clock.js';

describe('message clock', () => {
  it('formats ISO 8601 with microseconds in UTC', () => {
    expect(formatMicros(Date.UTC(2026, 0, 2, 3, 4, 5, 678) * 1000 + 901)).toBe('2026-01-02T03:04:05.678901Z');
    expect(formatMicros(Date.UTC(2026, 0, 2) * 1000 + 7)).toBe('2026-01-02T00:00:00.000007Z');
  });

  it('never repeats and always increases, even for calls in the same microsecond', () => {
    const stamps = Array.from({ length: 10_000 }, () => nextTimestamp());
    expect(new Set(stamps).size).toBe(stamps.length);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i] > stamps[i - 1]).toBe(true);
  });

  it('stays close to the wall clock and parses as a Date', () => {
    const stamp = nextTimestamp();
    expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(Math.abs(new Date(stamp).getTime() - Date.now())).toBeLessThan(1000);
  });

  it('steps one microsecond past a stored timestamp, across second and day boundaries', () => {
    expect(timestampAfter('2026-01-02T03:04:05.678901Z')).toBe('2026-01-02T03:04:05.678902Z');
    expect(timestampAfter('2026-01-02T23:59:59.999999Z')).toBe('2026-01-03T00:00:00.000000Z');
    expect(timestampAfter(nextTimestamp()) <= nextTimestamp()).toBe(true);
  });
});
