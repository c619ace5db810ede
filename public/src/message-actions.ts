// The row under each message: ‹ 2/3 › between its branches, Copy, Edit (prompts) or Regenerate
// (answers), and for answers the model that wrote it, with the token usage on hover. And the
// inline editor that Edit opens.
import type { MessageJson } from './api.js';
import { copyButton } from './clipboard.js';

export interface MessageActionHandlers {
  readonly edit: (message: MessageJson, element: HTMLElement) => void;
  readonly regenerate: (message: MessageJson, element: HTMLElement) => void;
  /** Shows the branch through this sibling. */
  readonly switchTo: (siblingId: number) => void;
}

/** Buttons that change the conversation: off while an answer is being written. */
const WHILE_IDLE = 'while-idle';

/** Replaces the message's action row with one for `message` (its stored state). */
export function setMessageActions(element: HTMLElement, message: MessageJson, handlers: MessageActionHandlers, busy: boolean): void {
  element.dataset.id = String(message.id);
  element.querySelector(':scope > .actions')?.remove();
  const bar = document.createElement('div');
  bar.className = 'actions';
  if (message.siblingIds.length > 1) bar.append(branchSwitcher(message, handlers.switchTo));
  bar.append(copyButton(() => message.content, message.role === 'user' ? 'Copy prompt' : 'Copy answer'));
  if (message.role === 'user') {
    bar.append(actionButton('Edit', 'Edit this prompt (the new text is a branch; this one stays)', () => handlers.edit(message, element)));
  } else {
    bar.append(actionButton('Regenerate', 'Regenerate this answer (a new branch; this one stays)', () => handlers.regenerate(message, element)));
    if (message.model) bar.append(answerInfo(message));
  }
  for (const button of bar.querySelectorAll<HTMLButtonElement>(`.${WHILE_IDLE}`)) button.disabled = busy;
  element.append(bar);
}

/** Turns the buttons that change the conversation off (an answer is being written) or on. */
export function setActionsBusy(container: HTMLElement, busy: boolean): void {
  for (const button of container.querySelectorAll<HTMLButtonElement>(`.actions .${WHILE_IDLE}`)) button.disabled = busy;
}

/** `‹ 2/3 ›`: where this message stands among its siblings, and a step to either side. */
function branchSwitcher(message: MessageJson, switchTo: (siblingId: number) => void): HTMLElement {
  const index = message.siblingIds.indexOf(message.id);
  const count = message.siblingIds.length;
  const group = document.createElement('span');
  group.className = 'branches';
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', `Version ${index + 1} of ${count}`);
  const previous = actionButton('‹', 'Previous version', () => switchTo(message.siblingIds[index - 1]));
  const next = actionButton('›', 'Next version', () => switchTo(message.siblingIds[index + 1]));
  previous.classList.add('step');
  next.classList.add('step');
  if (index <= 0) previous.dataset.edge = 'true';
  if (index >= count - 1) next.dataset.edge = 'true';
  const position = document.createElement('span');
  position.className = 'position';
  position.textContent = `${index + 1}/${count}`;
  group.append(previous, position, next);
  return group;
}

/** The answer's model; its token usage on hover (and for screen readers). */
function answerInfo(message: MessageJson): HTMLElement {
  const info = document.createElement('span');
  info.className = 'answer-info';
  info.textContent = message.model ?? '';
  const usage = message.usage
    ? `${message.usage.promptTokens} prompt + ${message.usage.completionTokens} completion tokens`
    : 'token usage not reported';
  info.title = usage;
  info.setAttribute('aria-label', `${message.model}: ${usage}`);
  return info;
}

function actionButton(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `small ${WHILE_IDLE}`;
  button.textContent = text;
  button.title = label;
  button.setAttribute('aria-label', label);
  // The edges of a switcher stay in place (no jumping layout) but do nothing.
  button.addEventListener('click', () => {
    if (button.dataset.edge !== 'true') onClick();
  });
  return button;
}

/**
 * Edit in place: the prompt's text in a box with Save and Cancel (Escape). Save hands the new
 * text over; the message is left as it was for the caller to replace.
 */
export function openEditor(element: HTMLElement, message: MessageJson, save: (text: string) => void): void {
  if (element.querySelector(':scope > .editor')) return;
  const body = element.querySelector<HTMLElement>(':scope > .body')!;
  const actions = element.querySelector<HTMLElement>(':scope > .actions');
  const form = document.createElement('form');
  form.className = 'editor';
  const box = document.createElement('textarea');
  box.value = message.content;
  box.rows = Math.min(12, message.content.split('\n').length + 1);
  box.setAttribute('aria-label', 'Edit the prompt');
  const saveButton = document.createElement('button');
  saveButton.type = 'submit';
  saveButton.className = 'small primary';
  saveButton.textContent = 'Save';
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.className = 'small';
  cancel.textContent = 'Cancel';
  const close = () => {
    form.remove();
    body.hidden = false;
    if (actions) actions.hidden = false;
  };
  cancel.addEventListener('click', close);
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    close();
    save(box.value);
  });
  form.append(box, saveButton, cancel);
  body.hidden = true;
  if (actions) actions.hidden = true;
  element.append(form);
  box.focus();
}
