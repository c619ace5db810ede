import { Inject, Injectable } from '@nestjs/common';
import { RetryLaterException } from '../common/http-error.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';

/** How long a client is told to wait when all its stream slots are taken. */
const RETRY_AFTER_SECONDS = 5;

/**
 * MAX_STREAMS_PER_CLIENT: the answers each client has running, counted for the whole process
 * (this instance's count). An answer holds its slot until it is stored, whether or not its
 * client still listens, so answers left to run on in the background count too.
 */
@Injectable()
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Takes one of the client's slots; returns what gives it back. Past the limit, a 429 with Retry-After. */
  take(clientKey: string): () => void {
    const limit = this.config.maxStreamsPerClient;
    if (limit === 0) return () => undefined;
    const taken = this.open.get(clientKey) ?? 0;
    if (taken >= limit) {
      throw new RetryLaterException(`Too many answers streaming at once: at most ${limit} per client. Wait for one to finish.`, RETRY_AFTER_SECONDS);
    }
    this.open.set(clientKey, taken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(clientKey) ?? 1) - 1;
      if (left > 0) this.open.set(clientKey, left);
      else this.open.delete(clientKey);
    };
  }
}
