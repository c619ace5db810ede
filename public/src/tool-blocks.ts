// An answer's parts on the page: its text as Markdown, each tool call as a collapsible block
// (name, arguments, then the result or the error), with a spinner while it runs. Everything a
// tool or the model sent goes in as text (textContent), never as HTML.
import type { MessagePartJson } from '../../src/contract/api-shapes.js';
import { renderMarkdown } from './markdown.js';

export type { MessagePartJson };

/** The parts with new text added: to the last text part, or as a new one after a tool step. */
export function withText(parts: readonly MessagePartJson[], text: string): MessagePartJson[] {
  const last = parts.at(-1);
  if (last?.type === 'text') return [...parts.slice(0, -1), { type: 'text', text: last.text + text }];
  return [...parts, { type: 'text', text }];
}

export function hasToolSteps(parts: readonly MessagePartJson[] | undefined): boolean {
  return (parts ?? []).some((part) => part.type !== 'text');
}

/** The answer's parts as elements; blocks the user opened stay open when re-rendered while streaming. */
export function renderParts(parts: readonly MessagePartJson[], previous: HTMLElement): DocumentFragment {
  const open = new Set([...previous.querySelectorAll<HTMLDetailsElement>('details.tool[open]')].map((details) => details.dataset.toolCallId));
  const outcomes = new Map<string, MessagePartJson>();
  for (const part of parts) if (part.type === 'tool-result' || part.type === 'tool-error') outcomes.set(part.toolCallId, part);
  const fragment = document.createDocumentFragment();
  for (const part of parts) {
    if (part.type === 'text') fragment.append(renderMarkdown(part.text));
    else if (part.type === 'tool-call') fragment.append(toolBlock(part, outcomes.get(part.toolCallId), open.has(part.toolCallId)));
  }
  return fragment;
}

function toolBlock(call: Extract<MessagePartJson, { type: 'tool-call' }>, outcome: MessagePartJson | undefined, open: boolean): HTMLDetailsElement {
  const state = !outcome ? 'running' : outcome.type === 'tool-error' ? 'failed' : 'done';
  const details = document.createElement('details');
  details.className = 'tool';
  details.dataset.toolCallId = call.toolCallId;
  details.dataset.state = state;
  details.open = open;
  const summary = document.createElement('summary');
  const name = document.createElement('code');
  name.textContent = call.toolName;
  const status = document.createElement('span');
  status.className = 'tool-state';
  status.textContent = state === 'running' ? 'running…' : state === 'failed' ? 'failed' : 'done';
  summary.append('Tool ', name, ' ', status);
  details.append(summary, section('Arguments', pretty(call.input)));
  if (outcome?.type === 'tool-result') details.append(section('Result', pretty(outcome.output)));
  if (outcome?.type === 'tool-error') details.append(section('Error', outcome.error));
  return details;
}

function section(label: string, text: string): HTMLElement {
  const wrapper = document.createElement('div');
  const heading = document.createElement('div');
  heading.className = 'tool-label';
  heading.textContent = label;
  const pre = document.createElement('pre');
  pre.textContent = text;
  wrapper.append(heading, pre);
  return wrapper;
}

/** JSON indented for reading; other text as it is. */
function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? '';
}
