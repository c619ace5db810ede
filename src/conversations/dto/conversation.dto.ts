import { ApiPropertyOptional } from '../../api-docs/openapi-decorators.js';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { PromptDto } from '../../chat/dto/prompt.dto.js';

/** Longest system prompt a conversation may have, in characters: it goes with every answer, outside the context budget. */
export const SYSTEM_PROMPT_MAX_CHARS = 4_000;
/** Message ids are PostgreSQL integers: a larger number is no id (and would fail the query with a 500). */
const MAX_MESSAGE_ID = 2_147_483_647;

/** A message id: a positive integer, from JSON or (as digits) a form field. */
function MessageId(): PropertyDecorator {
  const decorators = [
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value)),
    // Registered in the order they run (the pipe stops at the first failure): the type first.
    IsInt(),
    Min(1),
    Max(MAX_MESSAGE_ID),
  ];
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}

export class CreateConversationDto {
  @ApiPropertyOptional({ description: 'Defaults to the first line of the first prompt.', maxLength: 200 })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  title?: string;

  @ApiPropertyOptional({ description: 'One of GET /api/models; left out: the default.', maxLength: 200 })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  model?: string;

  @ApiPropertyOptional({ description: 'The system message of its answers instead of SYSTEM_PROMPT.', maxLength: SYSTEM_PROMPT_MAX_CHARS })
  @IsOptional()
  @MaxLength(SYSTEM_PROMPT_MAX_CHARS)
  @IsString()
  systemPrompt?: string;
}

/** What PATCH changes: any of these, at least one. */
export class UpdateConversationDto {
  @ApiPropertyOptional({ maxLength: 200, example: 'Trip planning' })
  @MaxLength(200)
  @Matches(/\S/, { message: 'title must not be empty' })
  @IsString({ message: 'title must be text' })
  @ValidateIf((body: UpdateConversationDto) => body.title !== undefined)
  title?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200, description: 'One of GET /api/models (else 400); null: back to the default.' })
  @MaxLength(200)
  @IsString({ message: 'model must be a model name or null' })
  @IsOptional()
  model?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: SYSTEM_PROMPT_MAX_CHARS,
    description: 'The system message of its answers; null or empty: back to SYSTEM_PROMPT.',
  })
  @MaxLength(SYSTEM_PROMPT_MAX_CHARS)
  @IsString({ message: 'systemPrompt must be text or null' })
  @IsOptional()
  systemPrompt?: string | null;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      "A message of this conversation (else 404): the active path becomes the path through it, continued down to its newest leaf (the newest branch at each step). This is how a client switches between a message's siblings.",
  })
  @MessageId()
  @ValidateIf((body: UpdateConversationDto) => body.activeMessageId !== undefined)
  activeMessageId?: number;
}

/** A prompt for the REST API, and where in the conversation's tree it goes. */
export class AskDto extends PromptDto {
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    description:
      "The answer the prompt follows; null: a new first prompt; left out: the end of the active path. To edit a prompt, send the new text with the edited prompt's parentId: it becomes a sibling (a branch), and the old one stays. An id that is not an answer of this conversation is 404 (no such message) or 400 (a prompt).",
  })
  @MessageId()
  @IsOptional()
  parentId?: number | null;
}

export class RegenerateDto {
  @ApiPropertyOptional({ minimum: 1, description: 'The answer to regenerate (404 if not in this conversation, 400 if a prompt); left out: the last answer of the active path.' })
  @MessageId()
  @IsOptional()
  messageId?: number;
}

export class ListConversationsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Max(100)
  @Min(1)
  @IsInt()
  @Type(() => Number)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page.' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class ListMessagesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Max(500)
  @Min(1)
  @IsInt()
  @Type(() => Number)
  limit?: number;

  @ApiPropertyOptional({ description: 'Return messages older than this message id (nextBefore from the previous page).' })
  @IsOptional()
  // Message ids are PostgreSQL integers: a larger number is no id, and failed the query with a 500.
  @Max(2_147_483_647)
  @Min(1)
  @IsInt()
  @Type(() => Number)
  before?: number;
}

export class AnswerFormatQuery {
  @ApiPropertyOptional({
    enum: ['delta', 'full'],
    default: 'delta',
    description: 'delta: start/delta/done events (O(answer) bytes). full: the seed format, every line the whole text so far.',
  })
  @IsOptional()
  @IsIn(['delta', 'full'])
  format?: 'delta' | 'full';
}
