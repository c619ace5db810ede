import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import express from 'express';
import { fileURLToPath } from 'node:url';

/** `public/`, beside `src/` and `dist/`: the same relative path from either. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

/** Same-origin only: the page loads nothing from elsewhere, and nothing else may frame it. */
const PAGE_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

/** Serves the chat page and its assets from `public/`. */
@Module({})
export class StaticModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  // Registered at module init: after the controllers' routes, before Nest's 404 handler.
  onModuleInit(): void {
    const files = express.static(PUBLIC_DIR, {
      index: 'index.html',
      setHeaders: (res) => {
        for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) res.setHeader(name, value);
        res.setHeader('Cache-Control', 'no-cache');
      },
    });
    this.adapterHost.httpAdapter.use(files);
  }
}
