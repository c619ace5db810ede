import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';

/**
 * ValidationPipe that treats a missing or non-object body as empty, so a request without a
 * usable body is told which field is missing rather than that validation itself failed.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor(options: { forbidUnknownFields: boolean }) {
    super({
      whitelist: true,
      forbidNonWhitelisted: options.forbidUnknownFields,
      transform: true,
      stopAtFirstError: true,
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isPlainObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    return super.transform(metadata.type === 'body' && !isPlainObject ? {} : value, metadata);
  }
}

/** For the seed's form endpoint: an HTML form may carry other fields (a named button); they are dropped. */
export const lenientValidation = new RequestValidationPipe({ forbidUnknownFields: false });

/** For the REST API: a misspelt field is an error, not silently ignored. */
export const strictValidation = new RequestValidationPipe({ forbidUnknownFields: true });
