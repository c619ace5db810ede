import { ApiProperty } from '../../api-docs/openapi-decorators.js';
import { IsDefined, IsString, Matches } from 'class-validator';

/** A prompt, as the seed's form (multipart, urlencoded) or JSON sends it. */
export class PromptDto {
  @ApiProperty({ description: 'What the user says. Not empty; at most MAX_PROMPT_CHARS characters.', example: 'What is NestJS?' })
  // class-validator runs a property's checks bottom-up, and the pipe stops at the first failure.
  @Matches(/\S/, { message: 'prompt must not be empty or only whitespace' })
  @IsString({ message: 'prompt must be text, not a file, a list or a number' })
  @IsDefined({ message: 'prompt is required: send it as a form field or JSON property named "prompt"' })
  prompt!: string;
}
