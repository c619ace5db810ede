import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import express from 'express';
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

/** Serves the chat page and its assets from `public/`. */
@Module({})
export class StaticModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // Registered at module init: after the controllers' routes, before Nest's 404 handler.
  async onModuleInit(): Promise<void> {
    await ensurePageBuilt();
    const headers = pageSecurityHeaders(this.config.allowRemoteImages);
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

/**
 * `npm start` and `npm run build` bundle the page first; a bare `nest start` does not, so the
 * bundle is made here when it is missing (esbuild is a dev dependency, so this needs a dev install).
 */
async function ensurePageBuilt(): Promise<void> {
  if (existsSync(join(PUBLIC_DIR, 'build', 'app.js'))) return;
  const logger = new Logger('StaticModule');
  const script = new URL('../../scripts/build-page.mjs', import.meta.url).href;
  try {
    await import(script);
    logger.log('Bundled the page into public/build/');
  } catch (error) {
    logger.error(`The page is not built and could not be bundled (${String(error)}): run "npm run build:page"`);
  }
}
