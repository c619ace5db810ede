import {
  BadRequestException,
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
import { AgentService, type AnswerSettings } from '../agent/agent.service.js';
import { RetryLaterException } from '../common/http-error.filter.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConversationRepository, type ConversationSettings } from '../persistence/conversation.repository.js';
import { nextTimestamp } from '../persistence/message-clock.js';
import { MessageRepository, type NewMessage } from '../persistence/message.repository.js';
import { hasToolParts } from '../agent/answer-parts.js';
import { AnswerRelay, RelayUnavailableError } from './answer-relay.js';
import { type AnswerEvent, AnswerRun, type AnswerRunSteps } from './answer-run.js';
import { AnswerRunRegistry } from './answer-run.registry.js';
import { conversationIdFor } from './conversation-ids.js';
import { titleFrom } from './conversation-titles.js';
import { ContextReader } from './context-reader.js';
import { observeAnswer } from '../telemetry/answer-telemetry.js';

/** The ids an AI SDK client holds for a prompt it sends: how its edits are told from new prompts. */
export interface ClientPromptIds {
  /** The UIMessage id of the prompt: one already stored means the client edited that prompt. */
  readonly messageId?: string;
  /** The id of the answer before it in the client's list (an id this server handed out). */
  readonly previousAnswerId?: string;
}

/** A new prompt, and where in the conversation's tree it goes. */
export interface PromptSource {
  readonly prompt: string;
  /**
   * The answer the prompt follows (an edit: the edited prompt's own parentId); null: a new first
   * prompt. Left out: the active leaf. Not an answer of this conversation: 404 or 400.
   */
  readonly parentId?: number | null;
  /** From an AI SDK client instead of `parentId`: placed by its ids (see clientParent). */
  readonly client?: ClientPromptIds;
}

/** A new answer beside an existing one (a sibling: the old one stays). */
export interface RegenerateSource {
  readonly regenerate: true;
  /** The answer to regenerate; left out: the last of the active path. Not an answer of this conversation: 404 or 400. */
  readonly messageId?: number;
  /** From an AI SDK client: its id for the answer, used when it names one of this conversation's answers (else the last). */
  readonly clientMessageId?: string;
}

export type AnswerSource = PromptSource | RegenerateSource;

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
/** Message ids are PostgreSQL integers: a larger number names no message (and would fail the query). */
const MAX_MESSAGE_ID = 2_147_483_647;

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
    private readonly contexts: ContextReader,
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
    // Read with the ownership check in `reserve`, used by `answer`.
    let settings: AnswerSettings = {};
    return {
      reserve: async () => {
        // Another owner's conversation is as absent as a missing one. Only a prompt creates one:
        // a regenerate that is refused must leave nothing behind.
        const isPrompt = 'prompt' in source;
        const conversation = await this.conversations.settingsIfOwned(conversationId, ownerId, isPrompt && options.createConversation);
        if (!conversation) {
          if (!isPrompt && options.createConversation) throw new ConflictException(NOTHING_TO_REGENERATE);
          throw new NotFoundException(`Conversation ${conversationId} not found`);
        }
        settings = answerSettings(conversation);
        if (isPrompt) {
          const [prompt, answer] = await this.messages.append(
            conversationId,
            [
              { role: 'user', content: source.prompt, status: 'complete', timestamp: nextTimestamp(), clientMessageId: storableClientId(source.client?.messageId) },
              this.answerRow(settings),
            ],
            { titleIfUntitled: titleFrom(source.prompt), parentId: await this.parentFor(conversationId, source) },
          );
          return { prompt, answer };
        }
        const promptId = await this.promptToRegenerate(conversationId, source);
        const prompt = (await this.messages.findShown(conversationId, promptId))!;
        // One answer at a time: a second regenerate (or one during an answer) would race the first.
        const appended = await this.messages.append(conversationId, [this.answerRow(settings)], { parentId: promptId, unlessStreaming: true });
        if (!appended) throw new ConflictException('An answer is still being written in this conversation; stop it or wait for it to finish');
        return { prompt, answer: appended[0] };
      },
      // The prompt and the path above it, within the budget.
      context: ({ prompt, answer }) => {
        this.contexts.answerStarted(conversationId, prompt, answer);
        return this.contexts.turns(conversationId, prompt.id);
      },
      answer: (context) => this.agent.answer(context, { ownerId, conversationId }, settings),
      store: async ({ answer }, outcome) => {
        this.contexts.answerStoring(answer.id);
        const stored = await this.messages.finishAnswer(answer, outcome);
        this.contexts.answerStored(conversationId, stored);
        return stored;
      },
      checkpoint: ({ answer }, { text, parts }) => this.messages.checkpoint(answer.id, text, hasToolParts(parts) ? JSON.stringify(parts) : null),
    };
  }

  /** Where a new prompt goes: after an answer of this conversation, at the root (null), or after the active leaf (undefined). */
  private async parentFor(conversationId: string, source: PromptSource): Promise<number | null | undefined> {
    if (source.client) return this.clientParent(conversationId, source.client);
    if (source.parentId === undefined || source.parentId === null) return source.parentId;
    const parent = await this.messages.find(conversationId, source.parentId);
    if (!parent) throw new NotFoundException(`Message ${source.parentId} not found in conversation ${conversationId}`);
    if (parent.role !== 'model') {
      throw new BadRequestException(
        `parentId ${source.parentId} is a prompt, not an answer: a prompt follows an answer (or null, to start again). To edit a prompt, send the edited prompt's own parentId.`,
      );
    }
    return parent.id;
  }

  /**
   * An AI SDK client's prompt: one whose id is stored already was edited, so the new text
   * branches from where that prompt stood; else it follows the answer before it in the client's
   * list, when that is one of this conversation's; else the active leaf.
   */
  private async clientParent(conversationId: string, client: ClientPromptIds): Promise<number | null | undefined> {
    const clientId = storableClientId(client.messageId);
    if (clientId) {
      const edited = await this.messages.findByClientMessageId(conversationId, clientId);
      if (edited) return edited.parentId;
    }
    const previousId = messageIdFrom(client.previousAnswerId);
    const previous = previousId === undefined ? null : await this.messages.find(conversationId, previousId);
    return previous?.role === 'model' ? previous.id : undefined;
  }

  /** The prompt a regenerated answer answers: the named answer's, or the active path's last. */
  private async promptToRegenerate(conversationId: string, source: RegenerateSource): Promise<number> {
    let answerId = source.messageId;
    if (answerId === undefined && source.clientMessageId !== undefined) {
      const named = messageIdFrom(source.clientMessageId);
      const found = named === undefined ? null : await this.messages.find(conversationId, named);
      if (found?.role === 'model') answerId = found.id;
    }
    if (answerId !== undefined) {
      const answer = await this.messages.find(conversationId, answerId);
      if (!answer) throw new NotFoundException(`Message ${answerId} not found in conversation ${conversationId}`);
      if (answer.role !== 'model') throw new BadRequestException(`messageId ${answerId} is a prompt, not an answer: regenerate names the answer to replace`);
      if (answer.parentId === null) throw new ConflictException(NOTHING_TO_REGENERATE);
      return answer.parentId;
    }
    const leafId = await this.messages.activeLeaf(conversationId);
    const leaf = leafId === null ? null : await this.messages.find(conversationId, leafId);
    // A prompt whose answer row is missing (written before answers had rows) is answered itself.
    const promptId = leaf === null ? null : leaf.role === 'model' ? leaf.parentId : leaf.id;
    if (promptId === null) throw new ConflictException(NOTHING_TO_REGENERATE);
    return promptId;
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

  /**
   * The owner's conversation's active path, oldest first, as the seed format's lines, a page of
   * messages at a time. The path's ids come from one walk; each page is then one query (on
   * SQLite, one synchronous step of a prepared statement that writes the lines itself), so a long
   * history streams without an object per row and without holding the connection between pages.
   */
  async *history(ownerId: string, conversationId: string, pageSize = 1000): AsyncGenerator<string> {
    if (!(await this.conversations.owns(conversationId, ownerId))) return;
    const ids = await this.messages.activePathIds(conversationId);
    for (let start = 0; start < ids.length; start += pageSize) {
      const lines = await this.messages.seedLines(conversationId, ids.slice(start, start + pageSize));
      if (lines.length > 0) yield lines;
    }
  }

  private answerRow(settings: AnswerSettings): NewMessage {
    return { role: 'model', content: '', status: 'streaming', timestamp: nextTimestamp(), model: settings.model ?? this.agent.modelName };
  }
}

function answerSettings(conversation: ConversationSettings): AnswerSettings {
  return {
    ...(conversation.model !== null && { model: conversation.model }),
    ...(conversation.systemPrompt !== null && { systemPrompt: conversation.systemPrompt }),
  };
}

/** A client's message id as stored (an id longer than the column is not kept: its edits then append). */
function storableClientId(id: string | undefined): string | undefined {
  return id !== undefined && id.length > 0 && id.length <= 200 ? id : undefined;
}

/** A message id this server handed out as text ("42"); undefined for anything else. */
function messageIdFrom(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_MESSAGE_ID ? id : undefined;
}
