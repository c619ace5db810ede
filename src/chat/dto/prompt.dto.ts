import { IsDefined, IsString, Matches } from 'class-validator';

/** The seed's form: one field, `prompt`, as multipart FormData, urlencoded or JSON. */
export class PromptDto {
  // class-validator runs a property's checks bottom-up, and the pipe stops at the first failure.
  @Matches(/\S/, { message: 'prompt must not be empty or only whitespace' })
  @IsString({ message: 'prompt must be text, not a file, a list or a number' })
  @IsDefined({ message: 'prompt is required: send it as a form field or JSON property named "prompt"' })
  prompt!: string;
}
