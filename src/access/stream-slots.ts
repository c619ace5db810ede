import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** How long a client is told to wait when all its stream slots are taken. */
const RETRY_AFTER_SECONDS = 5;

/**
 * MAX_STREAMS_PER_CLIENT: the answers each client is streaming, counted once for the whole
 * process (this instance's count). One instance, provided by AccessModule: the interceptor that
 * takes slots is instantiated in each module that uses it, so the count cannot live there.
 */
@Injectable()
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Takes one of the client's slots until the response closes, finished or abandoned; past the limit, a 429 with Retry-After. */
  take(clientKey: string, res: Response): void {
    const limit = this.config.maxStreamsPerClient;
    if (limit === 0) return;
    const taken = this.open.get(clientKey) ?? 0;
    if (taken >= limit) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new HttpException(
        `Too many answers streaming at once: at most ${limit} per client. Wait for one to finish.`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.open.set(clientKey, taken + 1);
    res.once('close', () => {
      const left = (this.open.get(clientKey) ?? 1) - 1;
      if (left > 0) this.open.set(clientKey, left);
      else this.open.delete(clientKey);
    });
  }
}
