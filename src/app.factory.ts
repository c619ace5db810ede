import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { RequestValidationPipe } from './common/request-validation.pipe.js';
import type { AppConfig } from './config/app-config.js';

export interface CreateAppOptions {
  readonly logger?: LoggerService | false;
}

/** Builds the application exactly as `main.ts` runs it; tests use the same function. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    abortOnError: false,
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.useBodyParser('json', { limit: config.maxBodyBytes });
  app.useBodyParser('urlencoded', { limit: config.maxBodyBytes, extended: false });
  app.useGlobalPipes(new RequestValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  app.enableShutdownHooks();
  return app;
}
