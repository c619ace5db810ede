import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { LoggerService, ModuleMetadata } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app.factory.js';
import type { SeedLine } from '../../src/contract/api-shapes.js';
import { NO_LIMITS } from './built-app.js';
import { loadConfig } from '../../src/config/app-config.js';

export { NO_LIMITS };

export interface RunningApp {
  readonly app: NestExpressApplication;
  readonly url: string;
  readonly databasePath: string;
  close(): Promise<void>;
}

/** A temp folder for a test file's databases, removed by `remove()`. */
export function tempDir(prefix = 'chat-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Starts the real application, configured through the same env parsing as `main.ts`, on a free
 * port; silent unless given a logger (to read what it logs).
 */
export interface StartOptions {
  readonly logger?: LoggerService;
  /** Modules added to the app, as an integrator adds theirs (test tools). */
  readonly imports?: NonNullable<ModuleMetadata['imports']>;
}

export async function startApp(env: Record<string, string | undefined>, options: StartOptions = {}): Promise<RunningApp> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...NO_LIMITS, ...env });
  const app = await createApp(config, { logger: options.logger ?? false, imports: options.imports });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    databasePath: config.database.type === 'sqlite' ? config.database.path : '',
    close: () => app.close(),
  };
}

export function parseNdjson(text: string): SeedLine[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as SeedLine);
}

/** Reads a streamed response, noting when each chunk arrived and which lines it held. */
export async function readTimedChunks(response: Response): Promise<{ at: number; text: string }[]> {
  const chunks: { at: number; text: string }[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push({ at: performance.now(), text: decoder.decode(chunk, { stream: true }) });
  }
  return chunks;
}
