import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Observable } from 'rxjs';
import { StorableChunks } from '../common/storable-text.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentTools } from '../tools/agent-tools.service.js';
import type { ToolCallContext } from '../tools/tool-source.js';
import { AgentError } from './agent-error.js';
import type { ToolCallPart, ToolErrorPart, ToolResultPart } from './answer-parts.js';
import { CHAT_MODEL, type ChatModel, type ConversationTurn, type ModelFinish, type ModelRequest, type TokenUsage, type ToolCall } from './chat-model.js';

/**
 * What happens while the agent answers, in order: each model call begins with `step`; `text` is
 * new text only; a tool call is announced once its arguments are complete, and its result or
 * error follows once it ran; `usage` is the answer's total so far, after each model call.
 */
export type AgentEvent =
  | { readonly type: 'step'; readonly step: number }
  | { readonly type: 'text'; readonly text: string }
  | ToolCallPart
  | ToolResultPart
  | ToolErrorPart
  | { readonly type: 'usage'; readonly usage: TokenUsage };

/** Who the answer is for: tools read only what this owner may read. */
export interface AnswerScope {
  readonly ownerId: string;
  readonly conversationId: string;
}

/** What one model call gave: its text, the tool calls it asked for, and how it finished. */
interface StepResult {
  readonly text: string;
  readonly calls: readonly ToolCall[];
  readonly finish: ModelFinish | undefined;
  readonly usage: TokenUsage | undefined;
}

/**
 * What one conversation chose for its answers (issue 15): a model from GET /api/models and a
 * system prompt; what is left out takes the server's (OPENAI_MODEL, SYSTEM_PROMPT).
 */
export interface AnswerSettings {
  readonly model?: string;
  readonly systemPrompt?: string;
}

const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 8_000;

@Injectable()
export class AgentService {
  private readonly logger = new Logger(AgentService.name);

  constructor(
    @Inject(CHAT_MODEL) private readonly model: ChatModel,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tools: AgentTools,
  ) {}

  get modelName(): string {
    return this.model.name;
  }

  get offline(): boolean {
    return this.model.offline;
  }

  /**
   * The answer to the conversation so far, calling tools as the model asks, at most
   * AGENT_MAX_STEPS model calls. Cold, for one subscriber: subscribing calls the model (a second
   * subscription fails, as the turns went to the first); unsubscribing aborts the model call and
   * the tools running. A model call that fails before its first output and is worth retrying
   * (429, 5xx, a broken connection, no first chunk in time) is retried with backoff; after its
   * first output nothing is retried. Fails with an AgentError whose message is fit to show the user.
   */
  answer(turns: readonly ConversationTurn[], scope: AnswerScope, settings: AnswerSettings = {}): Observable<AgentEvent> {
    // Handed to the one subscriber rather than kept by the Observable, which lives as long as the answer.
    let unclaimed: readonly ConversationTurn[] | undefined = turns;
    return new Observable<AgentEvent>((subscriber) => {
      if (!unclaimed) throw new AgentError('This answer was started already.');
      const conversation = new SentConversation(unclaimed);
      unclaimed = undefined;
      const abort = new AbortController();
      const emit = (event: AgentEvent) => {
        if (!abort.signal.aborted) subscriber.next(event);
      };
      this.run(conversation, scope, settings, abort.signal, emit).then(
        () => {
          if (!abort.signal.aborted) subscriber.complete(); // an aborted answer ends quietly: it is not complete
        },
        (error: unknown) => {
          if (abort.signal.aborted) return;
          subscriber.error(error instanceof AgentError ? error : new AgentError('The model call failed.', { cause: error }));
        },
      );
      return () => abort.abort();
    });
  }

  private async run(conversation: SentConversation, scope: AnswerScope, settings: AnswerSettings, signal: AbortSignal, emit: (event: AgentEvent) => void): Promise<void> {
    const tools = this.tools;
    const definitions = tools.definitions();
    const maxSteps = this.config.tools.maxSteps;
    let usage: TokenUsage | undefined;
    for (let step = 1; ; step++) {
      emit({ type: 'step', step });
      const result = await this.callWithRetries(conversation, definitions, settings, signal, emit);
      if (signal.aborted) return;
      if (result.usage) {
        usage = usage ? add(usage, result.usage) : result.usage;
        emit({ type: 'usage', usage });
      }
      if (result.calls.length === 0) return;

      const calls = result.calls.map((call) => toolCallPart(call));
      for (const call of calls) emit(call);
      // The calls are answered before the answer ends, so that the stored answer stays a valid history for later turns.
      const refuseAll = (error: string) => {
        for (const call of calls) emit({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, error });
      };
      if (conversation.released) {
        // Offered no tools, the model called one after its text, when the conversation was let go: no step can follow.
        refuseAll('Not run: no tools are offered to the model.');
        throw new AgentError('The model asked for a tool, but no tools are offered; the answer was ended there, and what was said is kept.');
      }
      conversation.add({ role: 'model', content: result.text, toolCalls: result.calls });
      if (step >= maxSteps) {
        refuseAll(`Not run: the answer reached its limit of ${maxSteps} model calls (AGENT_MAX_STEPS).`);
        throw new AgentError(`The answer needed more than ${maxSteps} model calls (AGENT_MAX_STEPS) and was ended; what was said is kept.`);
      }
      // In parallel; each result is announced as it comes, and given back to the model in call order.
      const outcomes = await Promise.all(
        result.calls.map(async (call, index) => {
          const context: ToolCallContext = { toolCallId: call.id, ownerId: scope.ownerId, conversationId: scope.conversationId, signal };
          const outcome = await tools.run(call, context);
          const part: ToolResultPart | ToolErrorPart =
            'output' in outcome
              ? { type: 'tool-result', toolCallId: call.id, toolName: calls[index].toolName, output: outcome.output }
              : { type: 'tool-error', toolCallId: call.id, toolName: calls[index].toolName, error: outcome.error };
          emit(part);
          return part;
        }),
      );
      if (signal.aborted) return;
      for (const outcome of outcomes) {
        conversation.add({ role: 'tool', toolCallId: outcome.toolCallId, content: outcome.type === 'tool-result' ? outcome.output : `Error: ${outcome.error}` });
      }
    }
  }

  private async callWithRetries(
    conversation: SentConversation,
    definitions: ReturnType<AgentTools['definitions']>,
    settings: AnswerSettings,
    signal: AbortSignal,
    emit: (event: AgentEvent) => void,
  ): Promise<StepResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(conversation, definitions, settings, signal, emit);
      } catch (failure) {
        if (signal.aborted) return { text: '', calls: [], finish: undefined, usage: undefined };
        const error = failure instanceof AgentError ? failure : new AgentError('The model call failed.', { cause: failure });
        if (!error.retryable || attempt >= this.config.upstream.retries) throw error;
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.logger.warn(`${error.message} Retrying in ${Math.round(delay)} ms (${attempt + 1} of ${this.config.upstream.retries}).`);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) return { text: '', calls: [], finish: undefined, usage: undefined };
      }
    }
  }

  /** One call to the model, under the first-chunk and idle timeouts. Resolves when the call is complete. */
  private async attempt(
    conversation: SentConversation,
    definitions: ReturnType<AgentTools['definitions']>,
    settings: AnswerSettings,
    outer: AbortSignal,
    emit: (event: AgentEvent) => void,
  ): Promise<StepResult> {
    const { firstTokenTimeoutMs, idleTimeoutMs } = this.config.upstream;
    const call = new AbortController();
    const forward = () => call.abort();
    outer.addEventListener('abort', forward, { once: true });
    let timedOut: AgentError | undefined;
    let text = '';
    let finish: ModelFinish | undefined;
    let usage: TokenUsage | undefined;
    const calls = new ToolCallAssembler();
    // One timer per call, not one per chunk: each chunk only moves the deadline, and the timer,
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
            retryable: text === '' && calls.empty,
          })
        : new AgentError(`The model server sent nothing for ${seconds(firstTokenTimeoutMs)}.`, { retryable: true });
      call.abort();
    };
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(check, firstTokenTimeoutMs);
    const storable = new StorableChunks();
    try {
      for await (const chunk of this.model.streamText(this.requestOf(conversation, definitions, settings), call.signal)) {
        if (call.signal.aborted) break;
        if ('text' in chunk) {
          const piece = storable.next(chunk.text);
          if (piece) {
            // Nothing is retried after text, and without tools no later step re-sends the conversation.
            if (text === '' && definitions.length === 0) conversation.release();
            text += piece;
            emit({ type: 'text', text: piece });
          }
        } else if ('toolCall' in chunk) {
          calls.add(chunk.toolCall);
        } else if ('usage' in chunk) {
          usage = chunk.usage;
        } else {
          finish = chunk.finish;
        }
        deadline = performance.now() + idleTimeoutMs;
        if (!started) {
          // The idle deadline may come before the first-chunk one the timer was set for.
          started = true;
          clearTimeout(timer);
          timer = setTimeout(check, idleTimeoutMs);
        }
      }
    } catch (error) {
      if (!timedOut) throw error;
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', forward);
    }
    // Models end quietly when their signal aborts, so a timeout shows up here.
    if (timedOut) throw timedOut;
    const rest = storable.end();
    if (rest && !call.signal.aborted) {
      text += rest;
      emit({ type: 'text', text: rest });
    }
    return { text, calls: calls.done(), finish, usage };
  }

  /** One model call's request; every step of the answer uses the conversation's settings. */
  private requestOf(conversation: SentConversation, definitions: ReturnType<AgentTools['definitions']>, settings: AnswerSettings): ModelRequest {
    return {
      systemPrompt: settings.systemPrompt ?? this.config.systemPrompt,
      ...(settings.model && { model: settings.model }),
      turns: conversation.turns,
      ...(definitions.length > 0 && { tools: definitions }),
    };
  }
}

/**
 * The conversation an answer sends to the model, kept only while a later model call may send it
 * again: a retry, which comes only before the first text, or a tool step, which comes only when
 * tools are offered. Without tools it is let go at the first text, so that a running answer does
 * not hold its whole context (the bulk of its memory; README, Performance).
 */
class SentConversation {
  /**
   * Never changed in place: a turn added (a tool step) makes a new array, so a request made from
   * the turns keeps the turns it was made with (the openai driver makes its body as it sends it).
   */
  private held: readonly ConversationTurn[] | undefined;

  constructor(turns: readonly ConversationTurn[]) {
    this.held = turns;
  }

  get turns(): readonly ConversationTurn[] {
    return this.kept();
  }

  add(turn: ConversationTurn): void {
    this.held = [...this.kept(), turn];
  }

  release(): void {
    this.held = undefined;
  }

  get released(): boolean {
    return this.held === undefined;
  }

  private kept(): readonly ConversationTurn[] {
    if (!this.held) throw new AgentError('The conversation was let go before its last model call.');
    return this.held;
  }
}

/**
 * Joins streamed tool call pieces per `index`: id and name come first, the arguments in pieces.
 * A call with no id gets one (some local servers leave it out), so its result can be matched.
 */
class ToolCallAssembler {
  private readonly byIndex = new Map<number, { id: string; name: string; arguments: string }>();

  get empty(): boolean {
    return this.byIndex.size === 0;
  }

  add(delta: { readonly index: number; readonly id?: string; readonly name?: string; readonly arguments?: string }): void {
    let call = this.byIndex.get(delta.index);
    if (!call) this.byIndex.set(delta.index, (call = { id: '', name: '', arguments: '' }));
    if (delta.id) call.id = delta.id;
    // OpenAI sends the name once; some servers repeat it in every piece.
    if (delta.name && call.name !== delta.name) call.name += delta.name;
    if (delta.arguments) call.arguments += delta.arguments;
  }

  done(): ToolCall[] {
    return [...this.byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ id: call.id || `call_${index}_${Math.random().toString(36).slice(2, 10)}`, name: call.name, arguments: call.arguments }));
  }
}

/** The call as the answer shows it: the parsed arguments, or their text when they are not JSON. */
function toolCallPart(call: ToolCall): ToolCallPart {
  let input: unknown = call.arguments;
  try {
    input = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    // kept as text: the registry tells the model they were not JSON
  }
  return { type: 'tool-call', toolCallId: call.id, toolName: call.name, input };
}

function add(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
