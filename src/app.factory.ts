import type { LoggerService, ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import type { NestExpressApplication, NestExpressBodyParserOptionsFor } from '@nestjs/platform-express';
import { accessMiddleware } from './access/access.middleware.js';
import { serveApiDocsOnDemand } from './api-docs/api-docs.js';
import { RateLimits } from './access/rate-limits.js';
import { AppModule } from './app.module.js';
import { MAX_FORM_FIELDS, verifyJsonBody } from './common/body-limits.js';
import type { AppConfig } from './config/app-config.js';
import { accessLogMiddleware } from './logging/access-log.middleware.js';

export interface CreateAppOptions {
  readonly logger?: LoggerService | false;
  /** Modules of the integrator's, added to the app (their `@AgentTool` providers become tools). */
  readonly imports?: NonNullable<ModuleMetadata['imports']>;
}

/** Builds the application exactly as `main.ts` runs it; tests use the same function. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.imports), {
    bodyParser: false,
    abortOnError: false,
    ...(options.logger !== undefined && { logger: options.logger }),
  });
  app.disable('x-powered-by');
  // First of all: the request id, the request's context for log lines, and its access line when it ends.
  app.use(accessLogMiddleware(options.logger));
  // Security headers on every response; the page's Content-Security-Policy comes from StaticModule.
  app.use(helmet({ contentSecurityPolicy: false }));
  // CORS stays closed (no headers: browsers keep other sites out) unless CORS_ORIGINS lists origins.
  if (config.corsOrigins.length > 0) app.enableCors({ origin: [...config.corsOrigins], credentials: true, maxAge: 600 });
  app.set('trust proxy', config.trustProxy);
  // Before every route and the page's files: Host check, then who the caller is (AUTH_MODE), and
  // the request rate, on the limiter AccessModule made (in Redis with REDIS_URL).
  app.use(accessMiddleware(config, app.get(RateLimits).requests));
  // Nest keeps `verify` out of the options type for its own rawBody option, which this app does not use.
  app.useBodyParser('json', { limit: config.maxBodyBytes, verify: verifyJsonBody } as NestExpressBodyParserOptionsFor<'json'>);
  app.useBodyParser('urlencoded', { limit: config.maxBodyBytes, extended: false, parameterLimit: MAX_FORM_FIELDS });
  serveApiDocsOnDemand(app);
  app.enableShutdownHooks();
  return app;
}
