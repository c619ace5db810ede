import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class CreateConversationDto {
  @ApiPropertyOptional({ description: 'Defaults to the first line of the first prompt.', maxLength: 200 })
  @IsOptional()
  @MaxLength(200)
  @IsString()
  title?: string;
}

export class UpdateConversationDto {
  @ApiProperty({ maxLength: 200, example: 'Trip planning' })
  @MaxLength(200)
  @Matches(/\S/, { message: 'title must not be empty' })
  @IsString({ message: 'title is required and must be text' })
  title!: string;
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
