import type { ConversationTurn, ToolCall } from './chat-model.js';

/** A tool call as the answer keeps it: `input` is the parsed arguments, or their raw text when they were not JSON. */
export interface ToolCallPart {
  readonly type: 'tool-call';
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input: unknown;
}

export interface ToolResultPart {
  readonly type: 'tool-result';
  readonly toolCallId: string;
  readonly toolName: string;
  /** What the model was given (capped, and marked when cut). */
  readonly output: string;
}

export interface ToolErrorPart {
  readonly type: 'tool-error';
  readonly toolCallId: string;
  readonly toolName: string;
  /** What the model was told went wrong. */
  readonly error: string;
}

export interface TextPart {
  readonly type: 'text';
  readonly text: string;
}

/**
 * An answer in order: its text and the tool calls the model made, each followed (after the
 * other calls of its step) by its result or error. Text of every step is part of the answer.
 */
export type AnswerPart = TextPart | ToolCallPart | ToolResultPart | ToolErrorPart;

export type ToolOutcomePart = ToolResultPart | ToolErrorPart;

/** The parts with `text` added to the last text part, or a new one after a tool part. */
export function withText(parts: readonly AnswerPart[], text: string): AnswerPart[] {
  const last = parts.at(-1);
  if (last?.type === 'text') return [...parts.slice(0, -1), { type: 'text', text: last.text + text }];
  return [...parts, { type: 'text', text }];
}

/** Whether the parts say more than their text: only then are they worth storing beside the content. */
export function hasToolParts(parts: readonly AnswerPart[]): boolean {
  return parts.some((part) => part.type !== 'text');
}

/** The tool calls that have no result yet (an answer stopped while they ran). */
export function unansweredCalls(parts: readonly AnswerPart[]): ToolCallPart[] {
  const answered = new Set(parts.filter((part) => part.type === 'tool-result' || part.type === 'tool-error').map((part) => part.toolCallId));
  return parts.filter((part): part is ToolCallPart => part.type === 'tool-call' && !answered.has(part.toolCallId));
}

/** The arguments as the model wrote them, for the next request (the model reads back what it sent). */
export function argumentsText(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? {});
}

/**
 * A stored answer as the model sees it in a later turn, in the OpenAI message order: each step's
 * text with the calls it made, then one tool message per call, then the next step. Calls without
 * a result are left out (the upstream refuses a call with no tool message after it).
 */
export function answerTurns(content: string, parts: readonly AnswerPart[] | null): ConversationTurn[] {
  if (!parts || !hasToolParts(parts)) return [{ role: 'model', content }];
  const outcomes = new Map<string, ToolOutcomePart>();
  for (const part of parts) if (part.type === 'tool-result' || part.type === 'tool-error') outcomes.set(part.toolCallId, part);
  const turns: ConversationTurn[] = [];
  let text = '';
  let calls: ToolCall[] = [];
  let results: ConversationTurn[] = [];
  const closeStep = () => {
    if (text || calls.length > 0) turns.push(calls.length > 0 ? { role: 'model', content: text, toolCalls: calls } : { role: 'model', content: text });
    turns.push(...results);
    text = '';
    calls = [];
    results = [];
  };
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        if (results.length > 0) closeStep();
        text += part.text;
        break;
      case 'tool-call': {
        if (results.length > 0) closeStep();
        const outcome = outcomes.get(part.toolCallId);
        if (!outcome) break;
        calls.push({ id: part.toolCallId, name: part.toolName, arguments: argumentsText(part.input) });
        break;
      }
      case 'tool-result':
        results.push({ role: 'tool', toolCallId: part.toolCallId, content: part.output });
        break;
      case 'tool-error':
        results.push({ role: 'tool', toolCallId: part.toolCallId, content: `Error: ${part.error}` });
        break;
    }
  }
  closeStep();
  return turns;
}
