import type { MessageEntity } from '../persistence/message.entity.js';

/** One line of the seed's ndjson: a message as the original example's page renders it. */
export interface ChatLine {
  readonly role: 'user' | 'model' | 'error';
  readonly timestamp: string;
  readonly content: string;
}

export function toChatLine(message: MessageEntity): ChatLine {
  return { role: message.role, timestamp: message.timestamp, content: message.content };
}

/** An answer that failed or was cut off before any text arrived is kept as a record, but has nothing to show. */
export function hasContent(message: MessageEntity): boolean {
  return message.content.length > 0;
}
