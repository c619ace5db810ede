import { Inject, Injectable, Logger } from '@nestjs/common';
import { Observable, Subscription, tap } from 'rxjs';
import { AgentError } from '../agent/agent-error.js';
import { AgentService } from '../agent/agent.service.js';
import { throttleLatest } from '../agent/throttle-latest.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import type { MessageStatus } from '../persistence/message.entity.js';
import { MessageRepository } from '../persistence/message.repository.js';
import { type ChatLine, hasContent, toChatLine } from './chat-line.js';

type ReplyPhase = 'storing-prompt' | 'answering' | 'finishing' | 'done';

@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly messages: MessageRepository,
    private readonly agent: AgentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async history(conversationId: string): Promise<ChatLine[]> {
    const messages = await this.messages.listConversation(conversationId);
    return messages.filter(hasContent).map(toChatLine);
  }

  /**
   * Stores the prompt, then streams: the prompt's line, the answer's cumulative text
   * (first token at once, then at most one line per debounce window, the full text last),
   * or an error line. Cold: nothing happens until subscribed. Unsubscribing mid-answer
   * aborts the model call and stores what arrived as `interrupted`.
   */
  reply(conversationId: string, prompt: string): Observable<ChatLine> {
    return new Observable<ChatLine>((subscriber) => {
      let phase: ReplyPhase = 'storing-prompt';
      let received = '';
      let answerTimestamp = '';
      let answering: Subscription | undefined;

      const storeAnswer = (status: MessageStatus, error?: string) =>
        this.messages.append(conversationId, [
          { role: 'model', content: received, status, error, timestamp: answerTimestamp, model: this.agent.modelName },
        ]);

      const finish = (status: MessageStatus, error?: AgentError) => {
        phase = 'finishing';
        storeAnswer(status, error?.message)
          .then(
            () => {
              if (error) subscriber.next({ role: 'error', timestamp: nextTimestamp(), content: error.message });
              else if (received === '') subscriber.next({ role: 'model', timestamp: answerTimestamp, content: '' });
            },
            (storeError: unknown) => {
              this.logger.error(`Could not store an answer: ${String(storeError)}`);
              subscriber.next({
                role: 'error',
                timestamp: nextTimestamp(),
                content: error?.message ?? 'The answer could not be saved.',
              });
            },
          )
          .finally(() => {
            phase = 'done';
            subscriber.complete();
          });
      };

      const start = async () => {
        const earlier = await this.messages.listConversation(conversationId);
        const [stored] = await this.messages.append(conversationId, [
          { role: 'user', content: prompt, status: 'complete', timestamp: nextTimestamp() },
        ]);
        if (subscriber.closed) return; // the client left while the prompt was being stored
        subscriber.next(toChatLine(stored));

        answerTimestamp = nextTimestamp();
        phase = 'answering';
        const turns = [...earlier.filter(hasContent), stored].map(({ role, content }) => ({ role, content }));
        answering = this.agent
          .answer(turns)
          .pipe(
            tap((text) => (received = text)),
            throttleLatest(this.config.chatDebounceMs),
          )
          .subscribe({
            next: (text) => subscriber.next({ role: 'model', timestamp: answerTimestamp, content: text }),
            error: (error: AgentError) => {
              this.logger.warn(`Model call failed: ${error.message} (${describeCause(error)})`);
              finish('error', error);
            },
            complete: () => finish('complete'),
          });
      };

      start().catch((error: unknown) => subscriber.error(error));

      return () => {
        if (phase !== 'answering') return;
        phase = 'done';
        answering?.unsubscribe();
        storeAnswer('interrupted').catch((error: unknown) =>
          this.logger.error(`Could not store an interrupted answer: ${String(error)}`),
        );
      };
    });
  }
}

function describeCause(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return cause === undefined ? 'no cause' : JSON.stringify(cause);
}
