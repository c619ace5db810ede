// The REST API the page uses (/api/conversations, /api/info); the server's OpenAPI document has the details.
import type { ConversationJson, ConversationPageJson, DeltaEvent, InfoJson, MessagePageJson, ModelsJson } from '../../src/contract/api-shapes.js';

export type { ConversationJson, DeltaEvent, MessageJson, ModelsJson } from '../../src/contract/api-shapes.js';

/** What PATCH /api/conversations/:id changes. */
export interface ConversationChanges {
  readonly title?: string;
  readonly model?: string | null;
  readonly activeMessageId?: number;
}

export class ApiError extends Error {}

async function json<T>(response: Response): Promise<T> {
  if (response.ok) return (response.status === 204 ? undefined : await response.json()) as T;
  let message = `HTTP ${response.status}`;
  try {
    message = ((await response.json()) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the status
  }
  throw new ApiError(message);
}

const send = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: body === undefined ? {} : { 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

export const api = {
  info: () => fetch('/api/info').then((r) => json<InfoJson>(r)),
  list: () => fetch('/api/conversations?limit=100').then((r) => json<ConversationPageJson>(r)),
  models: () => fetch('/api/models').then((r) => json<ModelsJson>(r)),
  create: (fields: { model?: string } = {}) => fetch('/api/conversations', send('POST', fields)).then((r) => json<ConversationJson>(r)),
  update: (id: string, changes: ConversationChanges) => fetch(`/api/conversations/${id}`, send('PATCH', changes)).then((r) => json<ConversationJson>(r)),
  remove: (id: string) => fetch(`/api/conversations/${id}`, send('DELETE')).then((r) => json<void>(r)),
  stop: (id: string) => fetch(`/api/conversations/${id}/stop`, send('POST')).then((r) => json<void>(r)),
  messages: (id: string, before?: number) =>
    fetch(`/api/conversations/${id}/messages?limit=100${before ? `&before=${before}` : ''}`).then((r) =>
      json<MessagePageJson>(r),
    ),
};

/** POSTs and reads the answer's delta stream (see readDeltas). */
export async function streamAnswer(url: string, body: unknown, signal: AbortSignal, onEvent: (event: DeltaEvent) => void): Promise<void> {
  await readDeltas(await fetch(url, { ...send('POST', body), signal }), onEvent);
}

/**
 * Reattaches to the answer running in a conversation: its stream starts again from the answer's
 * beginning (`start`, one `delta` with all the text so far) and then goes live. False when no
 * answer runs there any more (204): it ended between the page's last look and this request.
 */
export async function resumeAnswer(conversationId: string, signal: AbortSignal, onEvent: (event: DeltaEvent) => void): Promise<boolean> {
  const response = await fetch(`/api/conversations/${conversationId}/stream`, { signal });
  if (response.status === 204) return false;
  await readDeltas(response, onEvent);
  return true;
}

/** Reads a delta stream with a line buffer and a streaming decoder: a line split across reads is never parsed half. */
async function readDeltas(response: Response, onEvent: (event: DeltaEvent) => void): Promise<void> {
  if (!response.ok || !response.body) await json(response);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffer += decoder.decode(value, { stream: !done });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) onEvent(JSON.parse(line) as DeltaEvent);
    }
    if (done) break;
  }
}
