import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Observable } from 'rxjs';
import { StorableChunks } from '../common/storable-text.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentError } from './agent-error.js';
import { CHAT_MODEL, type ChatModel, type ConversationTurn, type TokenUsage } from './chat-model.js';

/** The answer so far: all its text, and the token usage once the upstream has reported it. */
export interface AnswerProgress {
  readonly text: string;
  readonly usage: TokenUsage | null;
}

const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 8_000;

@Injectable()
export class AgentService {
  private readonly logger = new Logger(AgentService.name);

  constructor(
    @Inject(CHAT_MODEL) private readonly model: ChatModel,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get modelName(): string {
    return this.model.name;
  }

  get offline(): boolean {
    return this.model.offline;
  }

  /**
   * The answer to the conversation so far, one emission per chunk, each carrying the cumulative
   * text. Cold: subscribing calls the model; unsubscribing aborts the upstream request.
   * A failure before the first token that is worth retrying (429, 5xx, a broken connection, no
   * first token in time) is retried with backoff; after the first token nothing is retried.
   * Fails with an AgentError whose message is fit to show the user.
   */
  answer(turns: readonly ConversationTurn[]): Observable<AnswerProgress> {
    return new Observable<AnswerProgress>((subscriber) => {
      const abort = new AbortController();
      const run = async () => {
        for (let attempt = 0; ; attempt++) {
          const progress = await this.attempt(turns, abort.signal, (p) => subscriber.next(p)).catch((error: unknown) => error);
          if (abort.signal.aborted) return; // an aborted stream ends quietly: it is not a complete answer
          if (!(progress instanceof Error)) return subscriber.complete();
          const error = progress instanceof AgentError ? progress : new AgentError('The model call failed.', { cause: progress });
          if (!error.retryable || attempt >= this.config.upstream.retries) throw error;
          const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
          this.logger.warn(`${error.message} Retrying in ${Math.round(delay)} ms (${attempt + 1} of ${this.config.upstream.retries}).`);
          await sleep(delay, undefined, { signal: abort.signal }).catch(() => undefined);
          if (abort.signal.aborted) return;
        }
      };
      run().catch((error: unknown) => {
        if (!abort.signal.aborted) subscriber.error(error);
      });
      return () => abort.abort();
    });
  }

  /** One call to the model, under the first-token and idle timeouts. Resolves when the answer is complete. */
  private async attempt(
    turns: readonly ConversationTurn[],
    outer: AbortSignal,
    emit: (progress: AnswerProgress) => void,
  ): Promise<AnswerProgress> {
    const { firstTokenTimeoutMs, idleTimeoutMs } = this.config.upstream;
    const call = new AbortController();
    const forward = () => call.abort();
    outer.addEventListener('abort', forward, { once: true });
    let timedOut: AgentError | undefined;
    let progress: AnswerProgress = { text: '', usage: null };
    // One timer per call, not one per token: each chunk only moves the deadline, and the timer,
    // when it fires early, sleeps again until the deadline it finds.
    let started = false;
    let deadline = performance.now() + firstTokenTimeoutMs;
    const check = () => {
      const left = deadline - performance.now();
      if (left > 0) {
        timer = setTimeout(check, left);
        return;
      }
      timedOut = started
        ? new AgentError(`The model server stopped sending for ${seconds(idleTimeoutMs)} in the middle of the answer.`, {
            retryable: progress.text === '',
          })
        : new AgentError(`The model server sent nothing for ${seconds(firstTokenTimeoutMs)}.`, { retryable: true });
      call.abort();
    };
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(check, firstTokenTimeoutMs);
    const text = new StorableChunks();
    try {
      for await (const chunk of this.model.streamText({ systemPrompt: this.config.systemPrompt, turns }, call.signal)) {
        if (call.signal.aborted) break;
        if ('text' in chunk) progress = { text: progress.text + text.next(chunk.text), usage: progress.usage };
        else if ('usage' in chunk) progress = { text: progress.text, usage: chunk.usage };
        else continue;
        deadline = performance.now() + idleTimeoutMs;
        if (!started) {
          // The idle deadline may come before the first-token one the timer was set for.
          started = true;
          clearTimeout(timer);
          timer = setTimeout(check, idleTimeoutMs);
        }
        emit(progress);
      }
    } catch (error) {
      if (!timedOut) throw error;
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', forward);
    }
    // Models end quietly when their signal aborts, so a timeout shows up here.
    if (timedOut) throw timedOut;
    const rest = text.end();
    if (rest && !call.signal.aborted) {
      progress = { text: progress.text + rest, usage: progress.usage };
      emit(progress);
    }
    return progress;
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
