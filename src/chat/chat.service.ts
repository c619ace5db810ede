import {
  type BeforeApplicationShutdown,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { distinctUntilChanged, Observable, Subscription, tap } from 'rxjs';
import { AgentError } from '../agent/agent-error.js';
import { AgentService, type AnswerProgress } from '../agent/agent.service.js';
import { throttleLatest } from '../agent/throttle-latest.js';
import { estimateTokens } from '../agent/token-estimate.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConversationRepository } from '../persistence/conversation.repository.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import { type AnswerOutcome, MessageRepository, type NewMessage } from '../persistence/message.repository.js';
import { seedLine } from './reply-formats.js';

/** What happens during one answer, before any wire format is applied. */
export type ReplyEvent =
  /** The prompt is stored and the answer's row reserved; the model is called next. */
  | { readonly type: 'start'; readonly prompt: MessageEntity; readonly answer: MessageEntity }
  /** All of the answer's text so far; at most one per debounce window, the final text last. */
  | { readonly type: 'text'; readonly text: string }
  /** The answer as stored. */
  | { readonly type: 'done'; readonly answer: MessageEntity }
  /** The model call failed; the partial answer is stored with status `error`. */
  | { readonly type: 'error'; readonly message: string; readonly answer: MessageEntity };

export type ReplySource = { readonly prompt: string } | { readonly regenerate: true };

export interface ReplyOptions {
  /** Create the conversation if it does not exist (the seed's default one, AI SDK chat ids) instead of a 404. */
  readonly createConversation?: boolean;
}

type ReplyPhase = 'starting' | 'answering' | 'finishing' | 'done';

const NOTHING_TO_REGENERATE = 'There is no prompt to regenerate an answer for';
const SHUTDOWN_MESSAGE = 'The server is shutting down; the answer so far is saved. Try again in a moment.';

@Injectable()
export class ChatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatService.name);
  /** Replies in flight, each with the function that ends it early and resolves once it is stored. */
  private readonly inFlight = new Set<() => Promise<void>>();
  private shuttingDown = false;

  constructor(
    private readonly messages: MessageRepository,
    private readonly conversations: ConversationRepository,
    private readonly agent: AgentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Answers in a conversation: stores the prompt (or, to regenerate, takes the last one) and a
   * row for the answer, then streams the answer from the bounded history. Cold: nothing happens
   * until subscribed. Unsubscribing mid-answer aborts the model call and stores what arrived as
   * `interrupted`. Fails before its first event with an HttpException (unknown conversation,
   * nothing to regenerate) or a storage error.
   */
  reply(ownerId: string, conversationId: string, source: ReplySource, options: ReplyOptions = {}): Observable<ReplyEvent> {
    return new Observable<ReplyEvent>((subscriber) => {
      let phase: ReplyPhase = 'starting';
      let answer: MessageEntity | undefined;
      let replaces: number[] = [];
      let latest: AnswerProgress = { text: '', usage: null };
      let answering: Subscription | undefined;
      let stopRequested = false;
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));

      const store = (outcome: Omit<AnswerOutcome, 'content' | 'usage'>) =>
        this.messages.finishAnswer(
          answer!,
          { ...outcome, content: latest.text, usage: latest.usage },
          // A failed regeneration keeps the answer it was meant to replace.
          outcome.status === 'complete' ? replaces : [],
        );

      /** Stores the answer as it ends, tells the client (done, or an error line), and completes. */
      const finish = (ending: 'complete' | { status: 'error' | 'interrupted'; message: string }) => {
        phase = 'finishing';
        const failure = ending === 'complete' ? undefined : ending;
        store(failure ? { status: failure.status, error: failure.message } : { status: 'complete' })
          .then(
            (stored) =>
              subscriber.next(failure ? { type: 'error', message: failure.message, answer: stored } : { type: 'done', answer: stored }),
            (storeError: unknown) => {
              this.logger.error(`Could not store an answer: ${String(storeError)}`);
              subscriber.next({ type: 'error', message: failure?.message ?? 'The answer could not be saved.', answer: answer! });
            },
          )
          .finally(() => {
            phase = 'done';
            settle();
            subscriber.complete();
          });
      };

      /** On shutdown: end the answer now, with what arrived, and say so. */
      const stopForShutdown = (): Promise<void> => {
        stopRequested = true;
        if (phase === 'answering') {
          answering?.unsubscribe();
          finish({ status: 'interrupted', message: SHUTDOWN_MESSAGE });
        }
        return phase === 'done' ? Promise.resolve() : settled;
      };
      this.inFlight.add(stopForShutdown);

      const interrupted = () =>
        store({ status: 'interrupted' }).catch((error: unknown) =>
          this.logger.error(`Could not store an interrupted answer: ${String(error)}`),
        );

      const start = async () => {
        if (this.shuttingDown) throw new ServiceUnavailableException('The server is shutting down; try again in a moment.');
        // Another owner's conversation is as absent as a missing one. Only a prompt creates one:
        // a regenerate that is refused must leave nothing behind.
        const isPrompt = 'prompt' in source;
        if (!(await this.conversations.owns(conversationId, ownerId, isPrompt && options.createConversation))) {
          if (!isPrompt && options.createConversation) throw new ConflictException(NOTHING_TO_REGENERATE);
          throw new NotFoundException(`Conversation ${conversationId} not found`);
        }
        let prompt: MessageEntity;
        if ('prompt' in source) {
          [prompt, answer] = await this.messages.append(conversationId, [
            { role: 'user', content: source.prompt, status: 'complete', timestamp: nextTimestamp() },
            this.answerRow(),
          ]);
        } else {
          const last = await this.messages.lastExchange(conversationId);
          if (!last) throw new ConflictException(NOTHING_TO_REGENERATE);
          prompt = last.prompt;
          replaces = last.answers.filter((m) => m.status !== 'streaming').map((m) => m.id);
          // One answer per prompt: a second regenerate (or one during an answer) would keep both.
          const appended = await this.messages.append(conversationId, [this.answerRow()], { unlessStreaming: true });
          if (!appended) throw new ConflictException('An answer is still being written in this conversation; stop it or wait for it to finish');
          [answer] = appended;
        }
        if (subscriber.closed) return void interrupted(); // the client left while we stored
        subscriber.next({ type: 'start', prompt, answer });

        // The prompt and what came before it, newest first until the budget is spent.
        const context = await this.messages.contextTail(conversationId, prompt.id + 1, this.config.contextMaxTokens, estimateTokens);
        if (subscriber.closed) return void interrupted();
        if (stopRequested) return finish({ status: 'interrupted', message: SHUTDOWN_MESSAGE });

        phase = 'answering';
        answering = this.agent
          .answer(context)
          .pipe(
            tap((progress) => (latest = progress)),
            // Only new text is worth a line: the usage report after the last token carries none.
            distinctUntilChanged((a, b) => a.text === b.text),
            throttleLatest(this.config.chatDebounceMs),
          )
          .subscribe({
            next: ({ text }) => subscriber.next({ type: 'text', text }),
            error: (error: AgentError) => {
              this.logger.warn(`Model call failed: ${error.message} (${describeCause(error)})`);
              finish({ status: 'error', message: error.message });
            },
            complete: () => finish('complete'),
          });
      };

      start().catch((error: unknown) => {
        if (answer && phase === 'starting') void store({ status: 'error', error: 'The answer could not be started.' }).catch(() => undefined);
        subscriber.error(error);
      });

      return () => {
        this.inFlight.delete(stopForShutdown);
        if (phase === 'starting' || phase === 'done') return settle();
        if (phase === 'finishing') return; // finish() settles once stored
        phase = 'done';
        answering?.unsubscribe();
        void interrupted().finally(settle);
      };
    });
  }

  /**
   * SIGTERM (or app.close()): refuse new answers, end those in flight with an error line and
   * their partial text stored as `interrupted`; the database closes after this resolves.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.inFlight.size > 0) this.logger.log(`Shutting down: ending ${this.inFlight.size} answer(s) in flight`);
    await Promise.all([...this.inFlight].map((stop) => stop()));
  }

  /** The seed's history: ndjson chunks, a page of rows at a time, messages with text only. */
  async *seedHistory(ownerId: string, conversationId: string): AsyncGenerator<string> {
    if (!(await this.conversations.owns(conversationId, ownerId))) return;
    for await (const page of this.messages.iterate(conversationId)) {
      const chunk = page
        .filter((message) => message.content.length > 0)
        .map((message) => seedLine(message))
        .join('');
      if (chunk) yield chunk;
    }
  }

  private answerRow(): NewMessage {
    return { role: 'model', content: '', status: 'streaming', timestamp: nextTimestamp(), model: this.agent.modelName };
  }
}

function describeCause(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return cause === undefined ? 'no cause' : JSON.stringify(cause);
}
