import { CreateMessages1763700000000 } from './1763700000000-create-messages.js';
import { ConversationsAndUsage1763800000000 } from './1763800000000-conversations-and-usage.js';
import { OwnersAndInstances1763900000000 } from './1763900000000-owners-and-instances.js';
import { ToolParts1764000000000 } from './1764000000000-tool-parts.js';
import { MessageTree1764100000000 } from './1764100000000-message-tree.js';

// Listed, not globbed: globbing .js/.ts files breaks between ts-jest, tsc output and ESM loaders.
export const migrations = [
  CreateMessages1763700000000,
  ConversationsAndUsage1763800000000,
  OwnersAndInstances1763900000000,
  ToolParts1764000000000,
  MessageTree1764100000000,
];
