import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';

/**
 * ValidationPipe that treats a missing or non-object body as empty, so a request without a
 * usable body is told which field is missing rather than that validation itself failed.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, transform: true, stopAtFirstError: true });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isPlainObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    return super.transform(metadata.type === 'body' && !isPlainObject ? {} : value, metadata);
  }
}
