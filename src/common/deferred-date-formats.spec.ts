import { deferredDateTimeFormat, withDeferredDateFormats } from './deferred-date-formats.js';

describe('date formats deferred while Nest loads', () => {
  const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit', hour: 'numeric', minute: 'numeric', second: 'numeric' };
  const date = Date.UTC(2026, 11, 2, 5, 6, 7);

  it('formats as the real DateTimeFormat does, and makes it only when first used', () => {
    const made: unknown[] = [];
    const counting = function (this: unknown, locales?: string, opts?: Intl.DateTimeFormatOptions) {
      made.push(opts);
      return new Intl.DateTimeFormat(locales, opts);
    } as unknown as typeof Intl.DateTimeFormat;
    const real = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });

    const deferred = new (deferredDateTimeFormat(counting))('en-GB', { ...options, timeZone: 'UTC' });
    expect(made).toHaveLength(0);
    expect(deferred.format(date)).toBe(real.format(date));
    expect(deferred.formatToParts(date)).toEqual(real.formatToParts(date));
    expect(deferred.formatRange(date, date + 86_400_000)).toBe(real.formatRange(date, date + 86_400_000));
    expect(deferred.resolvedOptions()).toEqual(real.resolvedOptions());
    expect(made).toHaveLength(1);
  });

  it("keeps Nest's ConsoleLogger from making its formatter at import, and puts Intl back", async () => {
    const original = Intl.DateTimeFormat;
    let made = 0;
    const counting = function (locales?: string, opts?: Intl.DateTimeFormatOptions) {
      made++;
      return new original(locales, opts);
    } as unknown as typeof Intl.DateTimeFormat;
    Intl.DateTimeFormat = counting;
    try {
      const { ConsoleLogger } = await withDeferredDateFormats(() => import('@nestjs/common'));
      expect(Intl.DateTimeFormat).toBe(counting);
      expect(made).toBe(0);
      // The pretty logger's first timestamp makes it.
      const timestamp = (new ConsoleLogger() as unknown as { getTimestamp(): string }).getTimestamp();
      expect(made).toBe(1);
      expect(timestamp).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    } finally {
      Intl.DateTimeFormat = original;
    }
  });
});
