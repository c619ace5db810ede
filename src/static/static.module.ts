import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import { fileURLToPath } from 'node:url';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** `public/`, beside `src/` and `dist/`: the same relative path from either. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

/**
 * Same-origin only: the page runs only its own scripts, loads nothing from elsewhere, and nothing
 * may frame it. (helmet sets the other security headers on every response.)
 */
export function pageSecurityHeaders(allowRemoteImages: boolean): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data:${allowRemoteImages ? ' https:' : ''}`,
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
}

/** The page's bundle, made by `npm run build:page` (run by `npm ci`, `npm start` and `npm run build`). */
const PAGE_BUNDLE = join(PUBLIC_DIR, 'build', 'app.js');

const PAGE_MISSING = 'The chat page is not built (public/build/app.js is missing): run "npm run build:page", then restart.';

/** Serves the chat page and its assets from `public/`. */
@Module({})
export class StaticModule implements OnModuleInit {
  private readonly logger = new Logger(StaticModule.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // Registered at module init: after the controllers' routes, before Nest's 404 handler.
  onModuleInit(): void {
    const headers = pageSecurityHeaders(this.config.allowRemoteImages);
    if (!existsSync(PAGE_BUNDLE)) {
      // The API works without the page; the page itself says what is wrong instead of loading blank.
      this.logger.error(PAGE_MISSING);
      this.adapterHost.httpAdapter.use((req: Request, res: Response, next: NextFunction) => {
        if (req.method !== 'GET' || (req.path !== '/' && req.path !== '/index.html')) return next();
        res.status(503).type('text/plain').send(PAGE_MISSING);
      });
    }
    const files = express.static(PUBLIC_DIR, {
      index: 'index.html',
      setHeaders: (res) => {
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        res.setHeader('Cache-Control', 'no-cache');
      },
    });
    this.adapterHost.httpAdapter.use(files);
  }
}
