/** Parses an application/x-ndjson or seed body into its JSON objects. */
export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

export interface DeltaEvent {
  type: 'start' | 'delta' | 'done' | 'error';
  conversationId?: string;
  messageId?: number;
  userMessage?: MessageJson;
  text?: string;
  message?: MessageJson | string;
  usage?: { promptTokens: number; completionTokens: number } | null;
}

export interface MessageJson {
  id: number;
  conversationId: string;
  role: 'user' | 'model';
  content: string;
  status: string;
  error: string | null;
  model: string | null;
  timestamp: string;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export interface ConversationJson {
  id: string;
  title: string | null;
  createdAt: string;
  updatedAt: string;
}
