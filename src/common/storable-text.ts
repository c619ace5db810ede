/*
 * Text the databases cannot store as it is: a lone surrogate (a JSON `\ud800` escape makes one)
 * has no UTF-8 form, so drivers store U+FFFD or raw surrogate bytes in its place while
 * JSON.stringify echoes the escape; and PostgreSQL's text refuses U+0000 outright. Either way the
 * client would be shown one text and later read back another, or get an error. Such characters
 * become U+FFFD once, where text enters: request bodies (RequestValidationPipe) and model text
 * (AgentService), so what is echoed, streamed and stored is one and the same text.
 */

declare global {
  // ES2024, in Node since 20; the project's TypeScript lib is ES2023.
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/** `text` with every lone surrogate and U+0000 replaced by U+FFFD. */
export function storableString(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\0') ? wellFormed.replaceAll('\0', '\uFFFD') : wellFormed;
}

/**
 * Makes every string of a parsed body storable (storableString), nested ones too, in place. The
 * body's depth is bounded by the parsers (MAX_JSON_DEPTH, multer's field nesting limit).
 */
export function storableBody<T>(value: T): T {
  if (typeof value === 'string') return storableString(value) as T;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const list = value as unknown[];
    for (let i = 0; i < list.length; i++) list[i] = storableBody(list[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const field = record[key];
    const fixed = storableBody(field);
    // Defined, not assigned: a JSON key "__proto__" is an own property, and assigning it would set the prototype.
    if (fixed !== field) Object.defineProperty(record, key, { value: fixed, writable: true, enumerable: true, configurable: true });
  }
  return value;
}

/**
 * Streamed text made storable chunk by chunk. A chunk may end with the first half of a surrogate
 * pair whose second half opens the next chunk, so a trailing high surrogate is held until then
 * rather than replaced. O(chunk) per chunk, not O(text so far).
 */
export class StorableChunks {
  private held = '';

  next(chunk: string): string {
    let text = this.held + chunk;
    this.held = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return storableString(text);
  }

  /** What is still held when the text ends: a high surrogate whose pair never came, as U+FFFD. */
  end(): string {
    return this.held ? '\uFFFD' : '';
  }
}
