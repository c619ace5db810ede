import { Logger } from '@nestjs/common';
import { filter, map, Observable, Subject, takeUntil } from 'rxjs';
import type { AgentError } from '../agent/agent-error.js';
import type { AgentEvent } from '../agent/agent.service.js';
import { type AnswerPart, hasToolParts, type ToolCallPart, type ToolErrorPart, type ToolResultPart, unansweredCalls, withText } from '../agent/answer-parts.js';
import type { ConversationTurn, TokenUsage } from '../agent/chat-model.js';
import { throttleLatest } from '../agent/throttle-latest.js';
import type { MessageEntity } from '../persistence/message.entity.js';
import type { AnswerOutcome } from '../persistence/message.repository.js';

/** What happens during one answer, before any wire format is applied. */
export type AnswerEvent =
  /** The prompt is stored and the answer's row reserved; the model is called next. */
  | { readonly type: 'start'; readonly prompt: MessageEntity; readonly answer: MessageEntity }
  /** A model call begins (1 for the first; more after tool calls). */
  | { readonly type: 'step'; readonly step: number }
  /** All of the answer's text so far, across its steps; at most one per debounce window, the final text last. */
  | { readonly type: 'text'; readonly text: string }
  /** A tool call with its complete arguments, about to run; its result or error follows. */
  | ToolCallPart
  | ToolResultPart
  | ToolErrorPart
  /** The answer as stored. */
  | { readonly type: 'done'; readonly answer: MessageEntity }
  /**
   * The answer ended early or failed; what arrived is stored with status `error` or
   * `interrupted`. `stopped`: someone asked for it to stop (formats may say so in their own way).
   */
  | { readonly type: 'error'; readonly message: string; readonly answer: MessageEntity; readonly stopped?: true };

/**
 * `starting`: storing the prompt, reserving the answer's row, reading the context.
 * `streaming`: the model is answering. `finishing`: storing the outcome. `done`: stored (or
 * refused before anything was stored).
 */
export type AnswerRunState = 'starting' | 'streaming' | 'finishing' | 'done';

const TRANSITIONS: Readonly<Record<AnswerRunState, readonly AnswerRunState[]>> = {
  starting: ['streaming', 'finishing', 'done'],
  streaming: ['finishing'],
  finishing: ['done'],
  done: [],
};

/**
 * Why a run is ended before the model is done: its last subscriber left (with
 * `whenAbandoned: abort`), the server is shutting down, someone asked (a stop route), or it ran
 * past `maxDurationMs`.
 */
export type StopReason = 'abandoned' | 'shutdown' | 'stopped' | 'timeout';

function stopMessage(reason: StopReason, options: AnswerRunOptions): string | null {
  switch (reason) {
    case 'abandoned':
      return null; // nobody is left to tell; the row says `interrupted` with no further reason
    case 'shutdown':
      return 'The server is shutting down; the answer so far is saved. Try again in a moment.';
    case 'stopped':
      return 'The answer was stopped.';
    case 'timeout':
      return `The answer took longer than ${Math.round(options.maxDurationMs / 1000)} s (ANSWER_MAX_DURATION_MS) and was stopped; what arrived is saved.`;
  }
}

/** The answer so far: its text, its parts in order, and the token usage once reported. */
export interface AnswerProgress {
  readonly text: string;
  readonly parts: readonly AnswerPart[];
  readonly usage: TokenUsage | null;
}

/** The prompt and the answer's row, once stored. */
export interface ReservedAnswer {
  readonly prompt: MessageEntity;
  readonly answer: MessageEntity;
}

/**
 * The storage and model work a run drives; the run decides when each happens. `reserve`
 * fails with an HttpException (unknown conversation, nothing to regenerate) or a storage error.
 */
export interface AnswerRunSteps {
  reserve(): Promise<ReservedAnswer>;
  context(reserved: ReservedAnswer): Promise<readonly ConversationTurn[]>;
  /** Cold: subscribing calls the model (and tools), unsubscribing aborts them. Fails with an AgentError. */
  answer(context: readonly ConversationTurn[]): Observable<AgentEvent>;
  store(reserved: ReservedAnswer, outcome: AnswerOutcome): Promise<MessageEntity>;
  /** Saves the answer so far while it streams, so a crash loses at most one interval. */
  checkpoint(reserved: ReservedAnswer, progress: AnswerProgress): Promise<void>;
}

export interface AnswerRunOptions {
  /** At most one `text` event per this many milliseconds (0: one per chunk). */
  readonly debounceMs: number;
  /** When the last subscriber leaves before the end: `abort` stops the model and stores what arrived. */
  readonly whenAbandoned: 'abort' | 'continue';
  /** A run still going this long after it started is stopped (0: never). */
  readonly maxDurationMs: number;
  /** While streaming, the text so far is checkpointed at most this often (0: never), on arriving text only. */
  readonly checkpointMs: number;
}

type Ending =
  | { readonly status: 'complete' }
  | { readonly status: 'error' | 'interrupted'; readonly message: string | null; readonly stopped?: true };

/**
 * One answer, from the reserved row to the stored outcome, independent of who is listening.
 * Subscribers (HTTP responses) come and go through `events()`: each gets the answer so far,
 * then the live events; the last one leaving is an input (see `whenAbandoned`), not the end.
 * `stop()` ends it early; `settled` resolves once its outcome is stored.
 */
export class AnswerRun {
  private static readonly logger = new Logger('AnswerRun');

  private current: AnswerRunState = 'starting';
  private readonly live = new Subject<AnswerEvent>();
  private subscribers = 0;
  private reservedAnswer: ReservedAnswer | undefined;
  private progress: AnswerProgress = { text: '', parts: [], usage: null };
  /**
   * What went out since `start`, for a subscriber who comes later: every event in order, with a
   * run of text events kept as its last (text events are cumulative).
   */
  private readonly sent: AnswerEvent[] = [];
  private stopRequest: StopReason | undefined;
  /** Ends the model's events early (a stop while streaming); the debounce then sends what it held back. */
  private readonly stopping = new Subject<void>();
  /** Why the run was refused before anything was stored. */
  private refusal: { readonly error: unknown } | undefined;
  private ending: Ending | undefined;
  private lastEvent: AnswerEvent | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private lastCheckpointAt = 0;
  private checkpointing = false;
  private markSettled!: () => void;
  readonly settled = new Promise<void>((resolve) => (this.markSettled = resolve));

  constructor(
    readonly conversationId: string,
    readonly ownerId: string,
    private readonly steps: AnswerRunSteps,
    private readonly options: AnswerRunOptions,
  ) {}

  get state(): AnswerRunState {
    return this.current;
  }

  /** All the text so far (not debounced). */
  get text(): string {
    return this.progress.text;
  }

  /** The parts so far (not debounced). */
  get parts(): readonly AnswerPart[] {
    return this.progress.parts;
  }

  /** The events sent since `start`, as a later subscriber gets them (text runs as their last). */
  get replay(): readonly AnswerEvent[] {
    return this.sent;
  }

  get usage(): TokenUsage | null {
    return this.progress.usage;
  }

  get reserved(): ReservedAnswer | undefined {
    return this.reservedAnswer;
  }

  /** `streaming` until done; then how it ended (undefined for a run refused before anything was stored). */
  get status(): AnswerOutcome['status'] | 'streaming' | undefined {
    return this.current === 'done' ? this.ending?.status : 'streaming';
  }

  /** Begins the work; returns the run. */
  start(): this {
    if (this.options.maxDurationMs > 0) {
      this.deadline = setTimeout(() => void this.stop('timeout'), this.options.maxDurationMs);
      this.deadline.unref();
    }
    void this.begin();
    return this;
  }

  /**
   * The run's events for one subscriber: `start` and the text so far if the run is past them,
   * then the live events, completing after `done` or `error`. Errors, before any event, with
   * the reason a run was refused.
   */
  events(): Observable<AnswerEvent> {
    return this.eventsFor(true);
  }

  /** The same events for an observer that is not a reader (a relay to other instances): it never keeps the run going. */
  watch(): Observable<AnswerEvent> {
    return this.eventsFor(false);
  }

  private eventsFor(reader: boolean): Observable<AnswerEvent> {
    return new Observable<AnswerEvent>((subscriber) => {
      if (this.refusal) return subscriber.error(this.refusal.error);
      const reserved = this.reservedAnswer;
      if (reserved) subscriber.next({ type: 'start', prompt: reserved.prompt, answer: reserved.answer });
      if (this.current === 'done') {
        if (this.lastEvent) subscriber.next(this.lastEvent);
        return subscriber.complete();
      }
      // Only what went out: text that is still waiting in the debounce goes out live, in its place.
      if (reserved) for (const event of this.sent) subscriber.next(event);
      const subscription = this.live.subscribe(subscriber);
      if (!reader) return subscription;
      this.subscribers++;
      return () => {
        subscription.unsubscribe();
        this.subscribers--;
        if (this.subscribers === 0 && this.current !== 'done' && this.options.whenAbandoned === 'abort') void this.stop('abandoned');
      };
    });
  }

  /** Ends the answer now, keeping what arrived; resolves once it is stored. */
  stop(reason: StopReason): Promise<void> {
    switch (this.current) {
      case 'starting':
        // begin() looks at this after each step that waits.
        this.stopRequest ??= reason;
        break;
      case 'streaming':
        // Completes the model's events (aborting the call): the debounce sends what it held back,
        // so the subscribers see all that is stored, then the run finishes as stopped.
        this.stopRequest = reason;
        this.stopping.next();
        break;
      case 'finishing':
      case 'done':
        break;
    }
    return this.settled;
  }

  private stopEnding(reason: StopReason): Ending {
    return { status: 'interrupted', message: stopMessage(reason, this.options), ...(reason === 'stopped' && { stopped: true as const }) };
  }

  private async begin(): Promise<void> {
    let reserved: ReservedAnswer;
    try {
      reserved = await this.steps.reserve();
    } catch (error) {
      clearTimeout(this.deadline);
      this.refusal = { error };
      this.moveTo('done');
      this.live.error(error);
      this.markSettled();
      return;
    }
    this.reservedAnswer = reserved;
    this.emit({ type: 'start', prompt: reserved.prompt, answer: reserved.answer });
    if (this.stopRequest) return this.finish(this.stopEnding(this.stopRequest));

    let context: readonly ConversationTurn[];
    try {
      context = await this.steps.context(reserved);
    } catch (error) {
      AnswerRun.logger.error(`Could not read the context of an answer: ${String(error)}`);
      return this.finish({ status: 'error', message: 'The answer could not be started.' });
    }
    if (this.stopRequest) return this.finish(this.stopEnding(this.stopRequest));

    this.moveTo('streaming');
    this.steps
      .answer(context)
      .pipe(
        map((event) => this.advance(event)),
        // Only new text and tool steps are worth an event: a usage report carries neither.
        filter((event): event is AnswerEvent => event !== null),
        takeUntil(this.stopping),
        throttleLatest(this.options.debounceMs, (event) => event.type === 'text'),
      )
      .subscribe({
        next: (event) => this.emit(event),
        error: (error: AgentError) => {
          AnswerRun.logger.warn(`Model call failed: ${error.message} (${describeCause(error)})`);
          this.finish({ status: 'error', message: error.message });
        },
        complete: () => this.finish(this.stopRequest ? this.stopEnding(this.stopRequest) : { status: 'complete' }),
      });
  }

  /** Takes in what the agent did; the event it is worth, if any. */
  private advance(event: AgentEvent): AnswerEvent | null {
    const { text, parts, usage } = this.progress;
    switch (event.type) {
      case 'text':
        this.progress = { text: text + event.text, parts: withText(parts, event.text), usage };
        this.checkpointIfDue();
        return { type: 'text', text: this.progress.text };
      case 'usage':
        this.progress = { text, parts, usage: event.usage };
        return null;
      case 'step':
        return event;
      default:
        this.progress = { text, parts: [...parts, event], usage };
        this.checkpointIfDue();
        return event;
    }
  }

  /** Saves the text so far if an interval has passed and no save is under way; a failed save waits for the next. */
  private checkpointIfDue(): void {
    const every = this.options.checkpointMs;
    if (every <= 0 || this.checkpointing || this.progress.parts.length === 0) return;
    const now = performance.now();
    if (this.lastCheckpointAt === 0) this.lastCheckpointAt = now; // the first interval starts with the first text
    if (now - this.lastCheckpointAt < every) return;
    this.lastCheckpointAt = now;
    this.checkpointing = true;
    this.steps
      .checkpoint(this.reservedAnswer!, this.progress)
      .catch((error: unknown) => AnswerRun.logger.warn(`Could not checkpoint an answer: ${String(error)}`))
      .finally(() => (this.checkpointing = false));
  }

  /** Stores the outcome with the text so far, tells the subscribers, and ends the run. */
  private finish(ending: Ending): void {
    clearTimeout(this.deadline);
    this.moveTo('finishing');
    this.ending = ending;
    const reserved = this.reservedAnswer!;
    // A call still running when the answer ended gets its error, so the stored answer reads whole.
    const parts: AnswerPart[] = [...this.progress.parts];
    for (const call of unansweredCalls(parts)) {
      parts.push({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, error: 'Not finished: the answer ended while the tool ran.' });
    }
    this.progress = { ...this.progress, parts };
    const outcome: AnswerOutcome = {
      status: ending.status,
      error: ending.status === 'complete' ? null : ending.message,
      content: this.progress.text,
      usage: this.progress.usage,
      ...(hasToolParts(parts) && { parts: JSON.stringify(parts) }),
    };
    void this.steps
      .store(reserved, outcome)
      .then(
        (stored): AnswerEvent =>
          ending.status === 'complete'
            ? { type: 'done', answer: stored }
            : { type: 'error', message: ending.message ?? 'The answer was stopped.', answer: stored, ...(ending.stopped && { stopped: true as const }) },
        (storeError: unknown): AnswerEvent => {
          AnswerRun.logger.error(`Could not store an answer: ${String(storeError)}`);
          this.ending = { status: 'error', message: 'The answer could not be saved.' };
          const message = ending.status === 'complete' ? 'The answer could not be saved.' : (ending.message ?? 'The answer could not be saved.');
          return { type: 'error', message, answer: reserved.answer };
        },
      )
      .then((last) => {
        this.moveTo('done');
        this.lastEvent = last;
        this.emit(last);
        this.live.complete();
        this.markSettled();
      });
  }

  private emit(event: AnswerEvent): void {
    if (event.type === 'text' && this.sent.at(-1)?.type === 'text') this.sent[this.sent.length - 1] = event;
    else if (event.type !== 'start' && event.type !== 'done' && event.type !== 'error') this.sent.push(event);
    this.live.next(event);
  }

  private moveTo(next: AnswerRunState): void {
    if (!TRANSITIONS[this.current].includes(next)) throw new Error(`AnswerRun: no transition from ${this.current} to ${next}`);
    this.current = next;
  }
}

function describeCause(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return cause === undefined ? 'no cause' : JSON.stringify(cause);
}
