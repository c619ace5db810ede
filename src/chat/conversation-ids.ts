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

/**
 * The conversation an AI SDK chat id names, always one of the caller's own: the UUID of a
 * conversation the caller owns (made through the REST API, say) or of its own default one is
 * used as it is; any other id, UUID or not, maps to a UUID v5 of owner and id, so nobody can
 * claim an id another owner will use (the seed's nil UUID included: a v5 UUID is never nil, and
 * the namespace differs from the default conversations'). `owns` is asked only about UUIDs.
 */
export async function conversationIdFor(chatId: string, ownerId: string, owns: (id: string) => Promise<boolean>): Promise<string> {
  if (UUID.test(chatId)) {
    const id = chatId.toLowerCase();
    if (id === defaultConversationId(ownerId) || (await owns(id))) return id;
  }
  return uuidV5(chatIdName(chatId, ownerId), CHAT_ID_NAMESPACE);
}

/**
 * Owner and chat id as one name, one-to-one (owner ids never hold a line break). The local owner's
 * ids without one keep their bare name, so its non-UUID chats made before owners existed keep
 * their conversations.
 */
function chatIdName(chatId: string, ownerId: string): string {
  return ownerId === LOCAL_OWNER && !chatId.includes('\n') ? chatId : `${ownerId}\n${chatId}`;
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
