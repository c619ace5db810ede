/** Parses an application/x-ndjson or seed body into its JSON objects. */
export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

export type { ConversationJson, DeltaEvent, MessageJson } from '../../src/contract/api-shapes.js';
