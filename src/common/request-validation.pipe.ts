import { type ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { storableBody } from './storable-text.js';

/**
 * ValidationPipe for bodies: no body at all counts as an empty object, so the client is told which
 * field is missing; a body that is not an object (a JSON array) is refused. Every string in the
 * body is made storable first (storableBody: no lone surrogates, no U+0000), so what is validated,
 * stored and echoed is one and the same text.
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
    if (metadata.type !== 'body') return super.transform(value, metadata);
    if (value === undefined) return super.transform({}, metadata);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new BadRequestException('The request body must be a JSON object (or form fields), not a list or a single value');
    }
    return super.transform(storableBody(value), metadata);
  }
}

/** For the seed's form endpoint: an HTML form may carry other fields (a named button); they are dropped. */
export const lenientValidation = new RequestValidationPipe({ forbidUnknownFields: false });

/** For the REST API: a misspelt field is an error, not silently ignored. */
export const strictValidation = new RequestValidationPipe({ forbidUnknownFields: true });
