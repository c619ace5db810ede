import type { IncomingMessage } from 'node:http';

/**
 * How deep a JSON body may nest its objects and arrays (the body's own object is level 1).
 * class-transformer copies bodies recursively, so a few thousand levels (a 12 KB body) overflowed
 * the stack; the AI SDK's deepest part (a tool's input or output) sits at level 6.
 */
export const MAX_JSON_DEPTH = 32;

/** Fields a form body may have, prompt included; the same for multipart and urlencoded. */
export const MAX_FORM_FIELDS = 16;

/** What a field of POST /chat/ other than prompt may hold: room for a named button or a token, no more. */
export const MAX_OTHER_FIELD_BYTES = 1024;

/** A body-parser error (status and type, as the error filter reads them). */
class BodyError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
    readonly limit?: number,
  ) {
    super(message);
  }
}

/**
 * The json body parser's `verify` hook: refuses a body nested deeper than MAX_JSON_DEPTH before
 * it is parsed, with one pass over its bytes. It reads UTF-8, the only encoding JSON may be sent
 * in between systems (RFC 8259, 8.1); other charsets, which body-parser would decode after this
 * hook, are refused rather than checked in a form the scan cannot read.
 */
export function verifyJsonBody(_req: IncomingMessage, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding !== null && !/^utf-?8$/i.test(encoding)) {
    throw new BodyError(`unsupported charset "${encoding.toUpperCase()}"`, 415, 'charset.unsupported');
  }
  if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw new BodyError('JSON nested too deep', 400, 'entity.too.deep', MAX_JSON_DEPTH);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the JSON text in `bytes` (UTF-8) nests objects and arrays deeper than `maxDepth`,
 * brackets inside strings not counting. Invalid JSON may be misjudged: the parser refuses it anyway.
 */
export function jsonNestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      // Skip the string: to its closing quote, stepping over escapes. UTF-8 continuation
      // bytes are all 0x80 or above, so they never look like a quote or a backslash.
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === BACKSLASH) i++;
      }
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
