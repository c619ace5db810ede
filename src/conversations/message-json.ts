import type { ConversationEntity } from '../persistence/conversation.entity.js';
import type { MessageEntity } from '../persistence/message.entity.js';

/** A message as the REST API returns it. */
export interface MessageJson {
  readonly id: number;
  readonly conversationId: string;
  readonly role: 'user' | 'model';
  readonly content: string;
  readonly status: MessageEntity['status'];
  readonly error: string | null;
  readonly model: string | null;
  readonly timestamp: string;
  readonly usage: UsageJson | null;
}

export interface UsageJson {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface ConversationJson {
  readonly id: string;
  readonly title: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function usageJson(message: MessageEntity): UsageJson | null {
  return message.promptTokens === null || message.completionTokens === null
    ? null
    : { promptTokens: message.promptTokens, completionTokens: message.completionTokens };
}

export function messageJson(message: MessageEntity): MessageJson {
  return {
    id: message.id,
    conversationId: message.conversationId,
    role: message.role,
    content: message.content,
    status: message.status,
    error: message.error,
    model: message.model,
    timestamp: message.timestamp,
    usage: usageJson(message),
  };
}

export function conversationJson(conversation: ConversationEntity): ConversationJson {
  return { id: conversation.id, title: conversation.title, createdAt: conversation.createdAt, updatedAt: conversation.updatedAt };
}
