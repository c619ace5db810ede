import { ApiProperty, ApiPropertyOptional } from '../../api-docs/openapi-decorators.js';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
  type ValidationArguments,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

const ROLES = ['system', 'user', 'assistant'] as const;

const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every item of the array is an object. ValidateNested alone lets a list through as an item and
 * names a bad one by no index; this names the first bad item (messages.0.parts.2 must be an object).
 */
function EveryItemIsAnObject(): PropertyDecorator {
  return ValidateBy({
    name: 'everyItemIsAnObject',
    validator: {
      // Not an array at all is IsArray's to report.
      validate: (value: unknown) => !Array.isArray(value) || value.every(isObject),
      defaultMessage: ({ property, value }: ValidationArguments) =>
        `${property}.${(value as unknown[]).findIndex((item) => !isObject(item))} must be an object`,
    },
  });
}

/**
 * One part of a UIMessage. Only text parts are read; every other kind the AI SDK sends (tool
 * calls and results, files, reasoning, step-start, sources, data-*) is accepted as an object with
 * a string type, and its other fields are dropped.
 */
export class UiMessagePart {
  @ApiProperty({ example: 'text', description: "'text', or any other part type (tool-*, file, reasoning, data-*, …)" })
  @IsString()
  type!: string;

  @ApiPropertyOptional({ description: 'Required on text parts.' })
  @IsString()
  @ValidateIf((part: UiMessagePart) => part.type === 'text')
  text?: string;
}

export class UiMessage {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  id?: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: (typeof ROLES)[number];

  @ApiProperty({ type: [UiMessagePart] })
  @ValidateNested({ each: true })
  @EveryItemIsAnObject()
  @Type(() => UiMessagePart)
  @IsArray()
  parts!: UiMessagePart[];
}

/**
 * The body `DefaultChatTransport` (behind `useChat`) sends. Fields the app adds through the
 * transport's `body` option (`model`, `temperature`, …) are accepted and ignored: a
 * conversation's model is set with PATCH /api/conversations/:id.
 */
export class AiSdkChatDto {
  @ApiProperty({ description: 'The chat id: a conversation UUID, or any other id, mapped to a UUID (v5) of its own.' })
  @MaxLength(200)
  @MinLength(1)
  @IsString()
  id!: string;

  @ApiProperty({
    type: [UiMessage],
    description: "UIMessage[]; only the last user message's text parts are used, history comes from the server.",
  })
  @ValidateNested({ each: true })
  @EveryItemIsAnObject()
  @Type(() => UiMessage)
  @IsArray()
  messages!: UiMessage[];

  @ApiPropertyOptional({ enum: ['submit-message', 'regenerate-message'] })
  @IsOptional()
  @IsIn(['submit-message', 'regenerate-message'])
  trigger?: 'submit-message' | 'regenerate-message';

  @ApiPropertyOptional({
    description:
      'With regenerate-message: the answer to regenerate (its id as this server streamed it); the new answer is its sibling. Any other id: the last answer of the active path.',
  })
  @IsOptional()
  @IsString()
  messageId?: string;
}
