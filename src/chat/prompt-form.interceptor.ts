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
import { NoFilesInterceptor } from '@nestjs/platform-express';
import type { Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** Parses multipart FormData (as browsers send forms) into `req.body`, refusing file parts. */
@Injectable()
export class PromptFormInterceptor implements NestInterceptor {
  private readonly multipart: NestInterceptor;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const Multipart = NoFilesInterceptor({
      limits: { fieldSize: config.maxBodyBytes, fields: 16, parts: 16 },
    });
    this.multipart = new Multipart();
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    try {
      return await this.multipart.intercept(context, next);
    } catch (error) {
      throw this.describe(error);
    }
  }

  private describe(error: unknown): unknown {
    const code = error instanceof HttpException ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    switch (code) {
      case 'LIMIT_UNEXPECTED_FILE':
      case 'LIMIT_FILE_COUNT':
        return new BadRequestException('File uploads are not accepted: send prompt as a text field');
      case 'LIMIT_FIELD_VALUE':
        return new PayloadTooLargeException(`The request body is larger than the limit of ${this.config.maxBodyBytes} bytes`);
      default:
        return error;
    }
  }
}
