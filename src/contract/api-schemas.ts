import { ApiProperty, ApiPropertyOptional } from '../api-docs/openapi-decorators.js';
import type { ConversationJson, ConversationPageJson, DeltaEvent, ErrorJson, InfoJson, MessageJson, MessagePageJson, MessagePartJson, ModelsJson, SeedLine, UsageJson } from './api-shapes.js';

// The shapes of api-shapes.ts for the OpenAPI document: each implements its type, so they cannot drift apart.

export class UsageSchema implements UsageJson {
  @ApiProperty() promptTokens!: number;
  @ApiProperty() completionTokens!: number;
}

export class ConversationSchema implements ConversationJson {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) title!: string | null;
  @ApiProperty({ description: 'ISO 8601, microseconds' }) createdAt!: string;
  @ApiProperty({ description: 'Last activity; lists sort by it, newest first' }) updatedAt!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The end of the active path, which GET …/messages shows; null while there are no messages' })
  activeMessageId!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The model its answers use (one of GET /api/models); null: the default' }) model!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Its system prompt; null: the server’s SYSTEM_PROMPT' }) systemPrompt!: string | null;
}

export class ModelsSchema implements ModelsJson {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'What answers a conversation that chose none; always in models' }) default!: string;
  @ApiProperty({ type: [String], example: ['gpt-4o-mini', 'gpt-4o'] }) models!: string[];
  @ApiProperty({
    enum: ['OPENAI_MODELS', 'upstream', 'OPENAI_MODEL'],
    description: "OPENAI_MODELS if set; else the model server's GET /v1/models (cached 5 min, 3 s timeout); else OPENAI_MODEL alone",
  })
  source!: ModelsJson['source'];
}

export class ConversationPageSchema implements ConversationPageJson {
  @ApiProperty({ type: [ConversationSchema] }) items!: ConversationSchema[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  nextCursor!: string | null;
}

/** Every MessagePartJson's fields in one flat schema. */
export class MessagePartSchema {
  @ApiProperty({ enum: ['text', 'tool-call', 'tool-result', 'tool-error'] satisfies MessagePartJson['type'][] }) type!: MessagePartJson['type'];
  @ApiPropertyOptional({ description: 'text' }) text?: string;
  @ApiPropertyOptional({ description: 'tool-*: the model\'s id for the call' }) toolCallId?: string;
  @ApiPropertyOptional({ description: 'tool-*' }) toolName?: string;
  @ApiPropertyOptional({ description: 'tool-call: the parsed arguments (their text when not JSON)' }) input?: unknown;
  @ApiPropertyOptional({ description: 'tool-result: what the model was given (capped)' }) output?: string;
  @ApiPropertyOptional({ description: 'tool-error: what the model was told went wrong' }) error?: string;
}

export class MessageSchema implements MessageJson {
  @ApiProperty({ description: 'Increasing: a message is always written after the one it follows' }) id!: number;
  @ApiProperty({ format: 'uuid' }) conversationId!: string;
  @ApiProperty({ type: Number, nullable: true, description: "The message this one follows (an answer's prompt, a prompt's previous answer); null for a first prompt" })
  parentId!: number | null;
  @ApiProperty({
    type: [Number],
    description: 'Ids of the messages with the same parent (branches: edits of a prompt, regenerations of an answer), itself included, oldest first',
  })
  siblingIds!: number[];
  @ApiProperty({ enum: ['user', 'model'] }) role!: 'user' | 'model';
  @ApiProperty() content!: string;
  @ApiProperty({ enum: ['streaming', 'complete', 'interrupted', 'error'] }) status!: MessageJson['status'];
  @ApiProperty({ type: String, nullable: true, description: 'What went wrong, for status error' }) error!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The model that wrote an answer' }) model!: string | null;
  @ApiProperty({ description: 'ISO 8601, microseconds, unique' }) timestamp!: string;
  @ApiProperty({ type: UsageSchema, nullable: true }) usage!: UsageSchema | null;
  @ApiProperty({ type: [MessagePartSchema], description: 'In order: text, and the tool calls with their results' })
  parts!: MessagePartJson[];
}

export class MessagePageSchema implements MessagePageJson {
  @ApiProperty({ type: [MessageSchema], description: 'Oldest first' }) items!: MessageSchema[];
  @ApiProperty({ type: Number, nullable: true, description: 'Pass as before for the next (older) page; null on the last' })
  nextBefore!: number | null;
}

export class ErrorSchema implements ErrorJson {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'prompt must not be empty or only whitespace' }) message!: string;
}

export class InfoSchema implements InfoJson {
  @ApiProperty({ example: 'gpt-4o-mini' }) model!: string;
  @ApiProperty({ description: 'True when the built-in offline model answers' }) offline!: boolean;
  @ApiProperty({ description: 'Whether the page loads remote images in answers (ALLOW_REMOTE_IMAGES)' }) allowRemoteImages!: boolean;
}

/** The delta stream, one JSON object per line (application/x-ndjson): every DeltaEvent's fields in one flat schema. */
export class StreamEventSchema {
  @ApiProperty({ enum: ['start', 'delta', 'tool-call', 'tool-result', 'tool-error', 'done', 'error'] satisfies DeltaEvent['type'][] }) type!: DeltaEvent['type'];
  @ApiPropertyOptional({ description: 'start', format: 'uuid' }) conversationId?: string;
  @ApiPropertyOptional({ description: 'start, error: the answer message id' }) messageId?: number;
  @ApiPropertyOptional({ description: 'start: the stored prompt', type: MessageSchema }) userMessage?: MessageSchema;
  @ApiPropertyOptional({ description: 'delta: only the new text' }) text?: string;
  @ApiPropertyOptional({ description: 'tool-call, tool-result, tool-error' }) toolCallId?: string;
  @ApiPropertyOptional({ description: 'tool-call' }) toolName?: string;
  @ApiPropertyOptional({ description: 'tool-call: the parsed arguments' }) input?: unknown;
  @ApiPropertyOptional({ description: 'tool-result: what the model was given' }) output?: string;
  @ApiPropertyOptional({ description: 'tool-error: what went wrong' }) error?: string;
  @ApiPropertyOptional({
    description: 'done: the stored answer without `content` and `parts` (the events carried them); error: what went wrong',
    type: MessageSchema,
  })
  message?: Omit<MessageSchema, 'content' | 'parts'> | string;
  @ApiPropertyOptional({ description: 'done', type: UsageSchema, nullable: true }) usage?: UsageSchema | null;
}

/** The seed format, one JSON object per line (text/plain). */
export class SeedLineSchema implements SeedLine {
  @ApiProperty({ enum: ['user', 'model', 'error'] }) role!: SeedLine['role'];
  @ApiProperty({ description: 'ISO 8601, microseconds; one per message, the same on every line of an answer' }) timestamp!: string;
  @ApiProperty({ description: 'model lines: all the text so far' }) content!: string;
}
