import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentError } from './agent-error.js';
import { CHAT_MODEL, type ChatModel, type ConversationTurn, type TokenUsage } from './chat-model.js';

/** The answer so far: all its text, and the token usage once the upstream has reported it. */
export interface AnswerProgress {
  readonly text: string;
  readonly usage: TokenUsage | null;
}

@Injectable()
export class AgentService {
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
   * Fails with an AgentError whose message is fit to show the user.
   */
  answer(turns: readonly ConversationTurn[]): Observable<AnswerProgress> {
    return new Observable<AnswerProgress>((subscriber) => {
      const abort = new AbortController();
      const run = async () => {
        let progress: AnswerProgress = { text: '', usage: null };
        for await (const chunk of this.model.streamText({ systemPrompt: this.config.systemPrompt, turns }, abort.signal)) {
          if (abort.signal.aborted) break;
          progress = 'text' in chunk ? { text: progress.text + chunk.text, usage: progress.usage } : { text: progress.text, usage: chunk.usage };
          subscriber.next(progress);
        }
        // An aborted stream also ends quietly: it is not a complete answer.
        if (!abort.signal.aborted) subscriber.complete();
      };
      run().catch((error: unknown) => {
        if (abort.signal.aborted) return;
        subscriber.error(error instanceof AgentError ? error : new AgentError('The model call failed.', { cause: error }));
      });
      return () => abort.abort();
    });
  }
}
