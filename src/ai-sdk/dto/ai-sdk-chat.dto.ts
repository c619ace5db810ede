import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** One part of a UIMessage; only text parts are read. */
export interface UiMessagePart {
  readonly type: string;
  readonly text?: unknown;
}

export interface UiMessage {
  readonly id?: string;
  readonly role: string;
  readonly parts?: readonly UiMessagePart[];
}

/** The body `DefaultChatTransport` (behind `useChat`) sends. */
export class AiSdkChatDto {
  @ApiProperty({ description: 'The chat id: a conversation UUID, or any other id, mapped to a UUID (v5) of its own.' })
  @MaxLength(200)
  @MinLength(1)
  @IsString()
  id!: string;

  @ApiProperty({ description: "UIMessage[]; only the last user message's text parts are used, history comes from the server." })
  @IsArray()
  messages!: UiMessage[];

  @ApiPropertyOptional({ enum: ['submit-message', 'regenerate-message'] })
  @IsOptional()
  @IsIn(['submit-message', 'regenerate-message'])
  trigger?: 'submit-message' | 'regenerate-message';

  @ApiPropertyOptional({ description: 'With regenerate-message: the message to regenerate (the last answer is regenerated).' })
  @IsOptional()
  @IsString()
  messageId?: string;
}
