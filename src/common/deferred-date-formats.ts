/**
 * Nest's ConsoleLogger makes an `Intl.DateTimeFormat` when its module loads, whichever logger the
 * app uses. Making one loads ICU's locale data: about 6 MB of the idle process's RSS (README,
 * Performance), which the JSON logger (the default when stdout is no terminal) never reads.
 * While `load` runs, a DateTimeFormat made is a stand-in that makes the real one when first used
 * (with LOG_FORMAT=pretty, at the first log line), so the data loads only if a date is formatted.
 */
export async function withDeferredDateFormats<T>(load: () => Promise<T>): Promise<T> {
  const real = Intl.DateTimeFormat;
  Intl.DateTimeFormat = deferredDateTimeFormat(real);
  try {
    return await load();
  } finally {
    Intl.DateTimeFormat = real;
  }
}

/** A DateTimeFormat constructor whose formatters are made on their first use by `real`. */
export function deferredDateTimeFormat(real: typeof Intl.DateTimeFormat): typeof Intl.DateTimeFormat {
  function DateTimeFormat(locales?: string | readonly string[], options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    let made: Intl.DateTimeFormat | undefined;
    const formatter = () => (made ??= new real(locales as string | string[] | undefined, options));
    return {
      format: (date) => formatter().format(date),
      formatToParts: (date) => formatter().formatToParts(date),
      formatRange: (start, end) => formatter().formatRange(start, end),
      formatRangeToParts: (start, end) => formatter().formatRangeToParts(start, end),
      resolvedOptions: () => formatter().resolvedOptions(),
    };
  }
  DateTimeFormat.supportedLocalesOf = (locales: string | readonly string[], options?: Intl.DateTimeFormatOptions) => real.supportedLocalesOf(locales as string | string[], options);
  return DateTimeFormat as unknown as typeof Intl.DateTimeFormat;
}
