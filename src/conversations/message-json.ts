import type { ConversationJson, MessageJson, MessagePartJson, UsageJson } from '../contract/api-shapes.js';
import type { ConversationEntity } from '../persistence/conversation.entity.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import type { ShownMessage } from '../persistence/message.repository.js';
// Stored conversations and messages as the API shapes of contract/api-shapes.ts.

export function usageJson(message: Pick<MessageEntity, 'promptTokens' | 'completionTokens'>): UsageJson | null {
  return message.promptTokens === null || message.completionTokens === null
    ? null
    : { promptTokens: message.promptTokens, completionTokens: message.completionTokens };
}

export function messageJson(message: ShownMessage): MessageJson {
  return {
    id: message.id,
    conversationId: message.conversationId,
    parentId: message.parentId,
    // Only reads that show branches fill them in; any other message is shown as its own only branch.
    siblingIds: message.siblingIds ?? [message.id],
    role: message.role,
    content: message.content,
    status: message.status,
    error: message.error,
    model: message.model,
    timestamp: message.timestamp,
    usage: usageJson(message),
    parts: partsJson(message),
  };
}

/** The stored parts, or the message's text as its one part (none for an answer with no text yet). */
export function partsJson(message: Pick<MessageEntity, 'content' | 'parts'>): MessagePartJson[] {
  if (message.parts) return JSON.parse(message.parts) as MessagePartJson[];
  return message.content ? [{ type: 'text', text: message.content }] : [];
}

export function conversationJson(conversation: ConversationEntity): ConversationJson {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    activeMessageId: conversation.activeMessageId,
    model: conversation.model,
    systemPrompt: conversation.systemPrompt,
  };
}
