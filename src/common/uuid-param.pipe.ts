import { type ArgumentMetadata, ParseUUIDPipe } from '@nestjs/common';

/**
 * A UUID route parameter, in lower case: UUIDs are case-insensitive, ids are stored in lower case,
 * and /api/chat lower-cases its chat ids, so an id in upper case names the same conversation.
 */
export class ConversationIdPipe extends ParseUUIDPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<string | undefined | null> {
    return (await super.transform(value, metadata))?.toLowerCase();
  }
}
