import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentError } from './agent-error.js';
import { CHAT_MODEL, type ChatModel, type ConversationTurn } from './chat-model.js';

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
   * The answer to the conversation so far, as its cumulative text, one emission per token.
   * Cold: subscribing calls the model; unsubscribing aborts the upstream request.
   * Fails with an AgentError whose message is fit to show the user.
   */
  answer(turns: readonly ConversationTurn[]): Observable<string> {
    return new Observable<string>((subscriber) => {
      const abort = new AbortController();
      const run = async () => {
        let text = '';
        for await (const delta of this.model.streamText({ systemPrompt: this.config.systemPrompt, turns }, abort.signal)) {
          if (abort.signal.aborted) break;
          text += delta;
          subscriber.next(text);
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
