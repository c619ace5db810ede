import {
  type BeforeApplicationShutdown,
  ConflictException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Caller } from '../access/caller.js';
import { StreamSlots } from '../access/stream-slots.js';
import type { Observable } from 'rxjs';
import { AgentService } from '../agent/agent.service.js';
import { RetryLaterException } from '../common/http-error.filter.js';
import { estimateTokens } from '../agent/token-estimate.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConversationRepository } from '../persistence/conversation.repository.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import { MessageRepository, type NewMessage } from '../persistence/message.repository.js';
import { hasToolParts } from '../agent/answer-parts.js';
import { boundedContext, contextTurns } from './answer-context.js';
import { AnswerRelay, RelayUnavailableError } from './answer-relay.js';
import { type AnswerEvent, AnswerRun, type AnswerRunSteps } from './answer-run.js';
import { AnswerRunRegistry } from './answer-run.registry.js';
import { conversationIdFor } from './conversation-ids.js';
import { titleFrom } from './conversation-titles.js';
import { observeAnswer } from '../telemetry/answer-telemetry.js';

export type AnswerSource = { readonly prompt: string } | { readonly regenerate: true };

export interface AnswerOptions {
  /** Create the conversation if it does not exist (the seed's default one, AI SDK chat ids) instead of a 404. */
  readonly createConversation?: boolean;
  /**
   * Whether a client can come back to the answer (resume, stop): then it runs on without its
   * client unless ANSWER_ON_DISCONNECT=abort. The seed's page cannot, so its answers stop.
   */
  readonly resumable?: boolean;
}

const NOTHING_TO_REGENERATE = 'There is no prompt to regenerate an answer for';

@Injectable()
export class ChatService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatService.name);
  private shuttingDown = false;

  constructor(
    private readonly messages: MessageRepository,
    private readonly conversations: ConversationRepository,
    private readonly agent: AgentService,
    private readonly runs: AnswerRunRegistry,
    private readonly slots: StreamSlots,
    private readonly relay: AnswerRelay,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts an answer in a conversation: stores the prompt (or, to regenerate, takes the last
   * one) and a row for the answer, then streams the answer from the bounded history. The run
   * is refused, before its first event, with an HttpException (unknown conversation, nothing to
   * regenerate, an answer already running for a regenerate) or a storage error.
   */
  startAnswer(caller: Caller, conversationId: string, source: AnswerSource, options: AnswerOptions = {}): AnswerRun {
    if (this.shuttingDown) throw new ServiceUnavailableException('The server is shutting down; try again in a moment.');
    const steps = this.stepsFor(caller.ownerId, conversationId, source, options);
    let releaseSlot: (() => void) | undefined;
    const reserve = async () => {
      // First, so that a client past MAX_STREAMS_PER_CLIENT stores nothing; async, as the count may be in Redis.
      releaseSlot = await this.slots.take(caller.clientKey);
      return steps.reserve();
    };
    const run = new AnswerRun(conversationId, caller.ownerId, { ...steps, reserve }, {
      debounceMs: this.config.chatDebounceMs,
      whenAbandoned: options.resumable && this.config.answerOnDisconnect === 'continue' ? 'continue' : 'abort',
      maxDurationMs: this.config.answerMaxDurationMs,
      checkpointMs: this.config.answerCheckpointMs,
    });
    this.runs.add(run);
    // A run settles only after its reserve step has ended, so a slot taken there is always given back.
    void run.settled.then(() => releaseSlot?.());
    // The run's work starts inside its `invoke_agent` span (with tracing) and reports to the request's access line.
    observeAnswer(run, this.agent.modelName, () => run.start());
    this.relay.announce(run);
    return run;
  }

  /**
   * The answer running in the owner's conversation, on this instance or (with Redis) another,
   * as its events from the beginning; undefined when none runs. Another owner's is as absent as
   * none.
   */
  async runningAnswer(ownerId: string, conversationId: string): Promise<Observable<AnswerEvent> | undefined> {
    const local = this.runs.find(conversationId, ownerId);
    if (local) return local.events();
    return this.acrossInstances(() => this.relay.attach(conversationId, ownerId));
  }

  /** Stops the answer running in the owner's conversation, here or on another instance; resolves once its text so far is stored. */
  async stopAnswer(ownerId: string, conversationId: string): Promise<void> {
    const local = this.runs.find(conversationId, ownerId);
    if (local) return local.stop('stopped');
    await this.acrossInstances(() => this.relay.stop(conversationId, ownerId));
  }

  private async acrossInstances<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof RelayUnavailableError)) throw error;
      throw new RetryLaterException('The answer may be running on another instance, and Redis, which reaches it, cannot be reached now. Try again shortly.', 5, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  /** The caller's conversation an AI SDK chat id names (see conversationIdFor). */
  conversationForChatId(chatId: string, ownerId: string): Promise<string> {
    return conversationIdFor(chatId, ownerId, (id) => this.conversations.owns(id, ownerId));
  }

  private stepsFor(ownerId: string, conversationId: string, source: AnswerSource, options: AnswerOptions): AnswerRunSteps {
    return {
      reserve: async () => {
        // Another owner's conversation is as absent as a missing one. Only a prompt creates one:
        // a regenerate that is refused must leave nothing behind.
        const isPrompt = 'prompt' in source;
        if (!(await this.conversations.owns(conversationId, ownerId, isPrompt && options.createConversation))) {
          if (!isPrompt && options.createConversation) throw new ConflictException(NOTHING_TO_REGENERATE);
          throw new NotFoundException(`Conversation ${conversationId} not found`);
        }
        if (isPrompt) {
          const [prompt, answer] = await this.messages.append(
            conversationId,
            [{ role: 'user', content: source.prompt, status: 'complete', timestamp: nextTimestamp() }, this.answerRow()],
            { titleIfUntitled: titleFrom(source.prompt) },
          );
          return { prompt, answer, replaces: [] };
        }
        const last = await this.messages.lastExchange(conversationId);
        if (!last) throw new ConflictException(NOTHING_TO_REGENERATE);
        // One answer per prompt: a second regenerate (or one during an answer) would keep both.
        const appended = await this.messages.append(conversationId, [this.answerRow()], { unlessStreaming: true });
        if (!appended) throw new ConflictException('An answer is still being written in this conversation; stop it or wait for it to finish');
        return { prompt: last.prompt, answer: appended[0], replaces: last.answers.filter((m) => m.status !== 'streaming').map((m) => m.id) };
      },
      // The prompt and what came before it, within the budget.
      context: async ({ prompt }) =>
        contextTurns(
          await boundedContext(
            (beforeId, limit) => this.messages.contextPage(conversationId, beforeId, limit),
            prompt.id + 1,
            this.config.contextMaxTokens,
            estimateTokens,
          ),
        ),
      answer: (context) => this.agent.answer(context, { ownerId, conversationId }),
      // A failed regeneration keeps the answers it was meant to replace.
      store: ({ answer, replaces }, outcome) => this.messages.finishAnswer(answer, outcome, outcome.status === 'complete' ? replaces : []),
      checkpoint: ({ answer }, { text, parts }) => this.messages.checkpoint(answer.id, text, hasToolParts(parts) ? JSON.stringify(parts) : null),
    };
  }

  /**
   * SIGTERM (or app.close()): refuse new answers, end those in flight with an error line and
   * their partial text stored as `interrupted`; the database closes after this resolves.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    const running = this.runs.all();
    if (running.length > 0) this.logger.log(`Shutting down: ending ${running.length} answer(s) in flight`);
    await Promise.all(running.map((run) => run.stop('shutdown')));
  }

  /** The owner's conversation, oldest first, a page of rows at a time: the messages with text (what the seed's page shows). */
  async *history(ownerId: string, conversationId: string): AsyncGenerator<MessageEntity[]> {
    if (!(await this.conversations.owns(conversationId, ownerId))) return;
    for await (const page of this.messages.iterate(conversationId)) {
      const shown = page.filter((message) => message.content.length > 0);
      if (shown.length > 0) yield shown;
    }
  }

  private answerRow(): NewMessage {
    return { role: 'model', content: '', status: 'streaming', timestamp: nextTimestamp(), model: this.agent.modelName };
  }
}
