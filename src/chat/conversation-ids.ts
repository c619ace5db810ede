import { createHash } from 'node:crypto';
import { LOCAL_OWNER } from '../access/caller.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The seed endpoints' conversation in AUTH_MODE=none (as before owners existed). */
const LOCAL_DEFAULT_CONVERSATION_ID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_CONVERSATION_NAMESPACE = 'c9a2e7d4-1b3f-4e58-8d6a-2f0b9c7e1a35';
/** Namespace for chat ids that are not UUIDs (useChat's default ids are 16-character strings). */
const CHAT_ID_NAMESPACE = '6f1c3a52-93e4-4c1d-9a5e-0b7d2e4f8a61';

/** The conversation the seed endpoints (`/chat/`) use for this owner: one per owner, always the same. */
export function defaultConversationId(ownerId: string): string {
  return ownerId === LOCAL_OWNER ? LOCAL_DEFAULT_CONVERSATION_ID : uuidV5(ownerId, DEFAULT_CONVERSATION_NAMESPACE);
}

/** The conversation an AI SDK chat id names: a UUID as it is, any other id by UUID v5 within the owner. */
export function conversationIdFor(chatId: string, ownerId: string): string {
  if (UUID.test(chatId)) return chatId.toLowerCase();
  return uuidV5(ownerId === LOCAL_OWNER ? chatId : `${ownerId}\n${chatId}`, CHAT_ID_NAMESPACE);
}

/** RFC 9562 UUID version 5 (SHA-1, name-based). */
function uuidV5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
