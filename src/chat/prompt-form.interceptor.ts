import {
  BadRequestException,
  CallHandler,
  ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  NestInterceptor,
  PayloadTooLargeException,
} from '@nestjs/common';
import { type MulterModuleOptions, NoFilesInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import type { Writable } from 'node:stream';
import type { Observable } from 'rxjs';
import { PARSES_MULTIPART } from '../common/body-type.interceptor.js';
import { MAX_FORM_FIELDS, MAX_OTHER_FIELD_BYTES } from '../common/body-limits.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/**
 * Parses multipart FormData (as browsers send forms) into `req.body`, refusing file parts, and
 * holds POST /chat/'s body to the limits every encoding shares: the whole body within
 * maxBodyBytes (multer has no such cap of its own, so the bytes are counted as they arrive), at
 * most MAX_FORM_FIELDS fields, and fields besides prompt (a named button) of at most
 * MAX_OTHER_FIELD_BYTES each.
 */
@Injectable()
export class PromptFormInterceptor implements NestInterceptor {
  static readonly [PARSES_MULTIPART] = true;
  private readonly multipart: NestInterceptor;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // multer takes a streamHandler (what feeds the request to its parser); Nest's options type predates it.
    const options: MulterModuleOptions & { streamHandler(req: Request, parser: Writable): void } = {
      limits: { fieldSize: config.maxBodyBytes, fields: MAX_FORM_FIELDS, parts: MAX_FORM_FIELDS },
      streamHandler: (req, parser) => this.feedWithinLimit(req, parser),
    };
    const Multipart = NoFilesInterceptor(options);
    this.multipart = new Multipart();
  }

  // Synchronous unless the body is multipart: a promise here would cost every JSON and form request a turn.
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request>();
    // A declared length over the limit is refused before a byte is read.
    if (Number(req.headers['content-length']) > this.config.maxBodyBytes) throw this.tooLarge();
    // JSON and urlencoded bodies were parsed before this (multer would only look and pass them on).
    if (!req.is('multipart/form-data')) {
      this.checkFields(req.body);
      return next.handle();
    }
    return this.parseMultipart(context, next, req);
  }

  private async parseMultipart(context: ExecutionContext, next: CallHandler, req: Request): Promise<Observable<unknown>> {
    let handled: Observable<unknown>;
    try {
      handled = await this.multipart.intercept(context, next);
    } catch (error) {
      throw this.describe(error);
    }
    // All three encodings are held to the same fields.
    this.checkFields(req.body);
    return handled;
  }

  /** Pipes the request into multer's parser, failing it once more than maxBodyBytes have arrived. */
  private feedWithinLimit(req: Request, parser: Writable): void {
    let received = 0;
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= this.config.maxBodyBytes) return;
      req.off('data', count);
      req.unpipe(parser);
      // multer fails the request with this error once it has drained the rest of the body.
      parser.destroy(this.tooLarge());
    };
    req.on('data', count);
    req.pipe(parser);
  }

  private checkFields(body: unknown): void {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return; // the validation pipe's to refuse
    const names = Object.keys(body);
    if (names.length > MAX_FORM_FIELDS) throw this.tooManyFields();
    for (const name of names) {
      if (name === 'prompt') continue;
      const value: unknown = (body as Record<string, unknown>)[name];
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
      if (Buffer.byteLength(text) > MAX_OTHER_FIELD_BYTES) {
        throw new PayloadTooLargeException(
          `The field ${name.slice(0, 100)} is larger than ${MAX_OTHER_FIELD_BYTES} bytes: only prompt may be long`,
        );
      }
    }
  }

  private describe(error: unknown): unknown {
    const code = error instanceof HttpException ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    switch (code) {
      case 'LIMIT_UNEXPECTED_FILE':
      case 'LIMIT_FILE_COUNT':
        return new BadRequestException('File uploads are not accepted: send prompt as a text field');
      case 'LIMIT_FIELD_VALUE':
        return this.tooLarge();
      case 'LIMIT_FIELD_COUNT':
      case 'LIMIT_PART_COUNT':
        return this.tooManyFields();
      default:
        return error;
    }
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException(`The request body is larger than the limit of ${this.config.maxBodyBytes} bytes`);
  }

  private tooManyFields(): PayloadTooLargeException {
    return new PayloadTooLargeException(`The request body has too many fields (at most ${MAX_FORM_FIELDS})`);
  }
}
