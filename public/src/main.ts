import { api, ApiError, type ConversationJson, type DeltaEvent, type MessageJson, resumeAnswer, streamAnswer } from './api.js';
import { addCodeCopyButtons } from './clipboard.js';
import { renderMarkdown, setAllowRemoteImages } from './markdown.js';
import { hasToolSteps, type MessagePartJson, renderParts, withText } from './tool-blocks.js';
import { type MessageActionHandlers, openEditor, setActionsBusy, setMessageActions } from './message-actions.js';
import { ModelPicker } from './model-picker.js';
import { renderSidebar, type SidebarHandlers, titleOf } from './sidebar.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const list = $<HTMLDivElement>('conversation-list');
const filterInput = $<HTMLInputElement>('conversation-filter');
const log = $<HTMLDivElement>('messages');
const form = $<HTMLFormElement>('composer');
const input = $<HTMLTextAreaElement>('prompt');
const sendButton = $<HTMLButtonElement>('send');
const stopButton = $<HTMLButtonElement>('stop');
const newChatButton = $<HTMLButtonElement>('new-chat');
const errorBox = $<HTMLDivElement>('error');
const errorText = $<HTMLSpanElement>('error-text');
const retryButton = $<HTMLButtonElement>('retry');
const title = $<HTMLHeadingElement>('chat-title');
const olderButton = $<HTMLButtonElement>('older');

let conversations: readonly ConversationJson[] = [];
let currentId: string | null = null;
let running: AbortController | null = null;
let olderBefore: number | null = null;
/** The model picked for a new chat before its first prompt (null: the default). */
let pendingModel: string | null = null;
/** Moves on with every conversation opened: a load or a reattach that started under an older value belongs to a view the user has left. */
let view = 0;

// ---- rendering --------------------------------------------------------------------------

function nearBottom(): boolean {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
}

function followIfNear(wasNear: boolean): void {
  if (wasNear) log.scrollTop = log.scrollHeight;
}

function messageElement(message: Pick<MessageJson, 'role' | 'status' | 'timestamp'>): HTMLElement {
  const element = document.createElement('article');
  element.className = `message ${message.role}`;
  element.dataset.status = message.status;
  element.dataset.timestamp = message.timestamp;
  const label = document.createElement('h3');
  label.className = 'visually-hidden';
  label.textContent = message.role === 'user' ? 'You' : 'Assistant';
  const body = document.createElement('div');
  body.className = 'body';
  element.append(label, body);
  return element;
}

type Shown = Pick<MessageJson, 'role' | 'content' | 'status' | 'error'> & { readonly parts?: readonly MessagePartJson[] };

function fill(element: HTMLElement, message: Shown): void {
  const body = element.querySelector<HTMLElement>('.body')!;
  element.dataset.status = message.status;
  if (message.role === 'user') body.textContent = message.content;
  else {
    body.replaceChildren(hasToolSteps(message.parts) ? renderParts(message.parts!, body) : renderMarkdown(message.content));
    addCodeCopyButtons(body);
  }
  element.querySelector('.note')?.remove();
  const note =
    message.status === 'interrupted' ? 'Stopped before the end.' : message.status === 'error' ? `Failed: ${message.error ?? 'unknown error'}` : '';
  if (note) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = note;
    element.append(p);
  }
}

function showMessages(messages: readonly MessageJson[], prepend = false): HTMLElement[] {
  const elements = messages
    .filter((m) => m.content || hasToolSteps(m.parts) || m.status !== 'complete')
    .map((m) => {
      const element = messageElement(m);
      fill(element, m);
      setMessageActions(element, m, messageActions, running !== null);
      return element;
    });
  if (prepend) log.prepend(...elements);
  else log.append(...elements);
  return elements;
}

const sidebarActions: SidebarHandlers = {
  open: (c) => void openConversation(c.id, true),
  rename: (c) => void renameConversation(c),
  remove: (c) => void deleteConversation(c),
};

function renderList(): void {
  renderSidebar(list, conversations, currentId, filterInput.value, sidebarActions);
}

const messageActions: MessageActionHandlers = {
  edit: (message, element) => {
    if (!running) openEditor(element, message, (text) => void editPrompt(message, element, text));
  },
  regenerate: (message, element) => void regenerateAnswer(message, element),
  switchTo: (siblingId) => void switchBranch(siblingId),
};

const modelPicker = new ModelPicker($<HTMLSelectElement>('model-picker'), (model) => void chooseModel(model));

function setBusy(busy: boolean): void {
  input.disabled = busy;
  sendButton.hidden = busy;
  stopButton.hidden = !busy;
  setActionsBusy(log, busy);
  if (!busy) input.focus();
}

function showError(message: string, retry?: () => void): void {
  errorText.textContent = message;
  errorBox.hidden = false;
  retryButton.hidden = !retry;
  retryButton.onclick = retry
    ? () => {
        errorBox.hidden = true;
        retry();
      }
    : null;
}

// ---- actions ----------------------------------------------------------------------------

async function refreshList(): Promise<void> {
  conversations = (await api.list()).items;
  renderList();
  const current = conversations.find((c) => c.id === currentId);
  if (current) setTitle(current.title);
}

function setTitle(text: string | null): void {
  title.textContent = text ?? 'New chat';
  document.title = `${title.textContent} – Chat App`;
}

async function openConversation(id: string | null, push: boolean): Promise<void> {
  // This page stops listening, nothing more: the answer runs on on the server, and coming back reattaches to it.
  if (running) {
    running.abort();
    running = null;
    setBusy(false);
  }
  const opened = ++view;
  currentId = id;
  errorBox.hidden = true;
  if (push) history.pushState(null, '', id ? `?c=${id}` : location.pathname);
  log.replaceChildren();
  olderButton.hidden = true;
  renderList();
  setTitle(conversations.find((c) => c.id === id)?.title ?? null);
  modelPicker.show(id ? (conversations.find((c) => c.id === id)?.model ?? null) : pendingModel);
  if (!id) return input.focus();
  try {
    await showConversation(id, opened);
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not load the conversation.');
  }
  input.focus();
}

/**
 * Shows the conversation's latest messages. An answer still being written (sent before a reload,
 * from another tab, or before the user switched away) is followed live to its end, unless it is
 * `ended`: one that this view already found gone, whose row may lag behind its run.
 */
async function showConversation(id: string, opened: number, ended?: number): Promise<void> {
  const page = await api.messages(id);
  if (view !== opened) return;
  log.replaceChildren();
  const elements = showMessages(page.items);
  olderBefore = page.nextBefore;
  olderButton.hidden = olderBefore === null;
  log.scrollTop = log.scrollHeight;
  const last = page.items.at(-1);
  if (last?.status === 'streaming' && last.id !== ended) void reattach(id, last.id, elements.at(-1)!, opened);
}

async function reattach(id: string, messageId: number, element: HTMLElement, opened: number): Promise<void> {
  const outcome = await answer({ resume: id, messageId, element });
  if (outcome === 'followed' || view !== opened) return;
  // The answer ended before the request reached it (204), or a newer one runs now: the stored
  // messages say how it ended (and show the newer one), loaded once more.
  try {
    await showConversation(id, opened, messageId);
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not load the conversation.');
  }
}

async function loadOlder(): Promise<void> {
  if (!currentId || olderBefore === null) return;
  const page = await api.messages(currentId, olderBefore);
  showMessages(page.items, true);
  olderBefore = page.nextBefore;
  olderButton.hidden = olderBefore === null;
}

/**
 * A new prompt or a regeneration, POSTed; or an answer already running, shown from the message
 * list, to follow. `reloadOnRefusal`: the view was changed ahead of the answer (an edit, a
 * regeneration took messages off it), so a request refused before it started shows the
 * conversation as stored again.
 */
type AnswerSource =
  | { readonly post: string; readonly body?: unknown; readonly reloadOnRefusal?: boolean }
  | { readonly resume: string; readonly messageId: number; readonly element: HTMLElement };

/**
 * Streams one answer into the log. `followed`: the stream ran (to its end, or until the page
 * stopped listening); `gone`: nothing ran any more to reattach to; `superseded`: a newer answer
 * than the one shown runs in the conversation.
 */
async function answer(source: AnswerSource): Promise<'followed' | 'gone' | 'superseded'> {
  const controller = new AbortController();
  running = controller;
  setBusy(true);
  const resumed = 'resume' in source ? source : null;
  let answerElement: HTMLElement | null = resumed?.element ?? null;
  answerElement?.setAttribute('aria-busy', 'true');
  let text = '';
  let parts: MessagePartJson[] = [];
  const toolNames = new Map<string, string>();
  let scheduled = false;
  let ended = false;
  let started = false;
  let superseded = false;
  const render = () => {
    scheduled = false;
    // A frame asked for by the last delta comes after the end when both arrived in one read: the end's rendering stands.
    if (!answerElement || ended) return;
    const wasNear = nearBottom();
    fill(answerElement, { role: 'model', content: text, parts, status: 'streaming', error: null });
    followIfNear(wasNear);
  };
  const schedule = () => {
    // Only the message being written re-renders, at most once a frame.
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(render);
    }
  };
  const onEvent = (event: DeltaEvent) => {
    if (superseded) return;
    if (event.type === 'start') {
      started = true;
      if ('resume' in source) {
        // The prompt and the text so far are on screen from the message list; the first delta repeats that text whole.
        if (event.messageId !== source.messageId) {
          superseded = true;
          controller.abort();
        }
        return;
      }
      if (event.userMessage && source.post.endsWith('/messages')) {
        const userElement = messageElement(event.userMessage);
        fill(userElement, event.userMessage);
        setMessageActions(userElement, event.userMessage, messageActions, true);
        log.append(userElement);
      }
      answerElement = messageElement({ role: 'model', status: 'streaming', timestamp: '' });
      answerElement.dataset.id = String(event.messageId);
      answerElement.setAttribute('aria-busy', 'true');
      log.append(answerElement);
      log.scrollTop = log.scrollHeight; // the user just asked: show the answer starting, wherever they were
    } else if (event.type === 'delta') {
      text += event.text;
      parts = withText(parts, event.text);
      schedule();
    } else if (event.type === 'tool-call') {
      toolNames.set(event.toolCallId, event.toolName);
      parts = [...parts, { type: 'tool-call', toolCallId: event.toolCallId, toolName: event.toolName, input: event.input }];
      schedule();
    } else if (event.type === 'tool-result' || event.type === 'tool-error') {
      const toolName = toolNames.get(event.toolCallId) ?? '';
      parts = [...parts, { ...event, toolName }];
      schedule();
    } else if (event.type === 'done') {
      ended = true;
      if (answerElement) {
        fill(answerElement, { role: 'model', content: text, parts, status: event.message.status, error: null });
        setMessageActions(answerElement, { ...event.message, content: text, parts }, messageActions, true);
      }
    } else if (event.stopped) {
      ended = true;
      if (answerElement) fill(answerElement, { role: 'model', content: text, parts, status: 'interrupted', error: null });
    } else {
      ended = true;
      if (answerElement) fill(answerElement, { role: 'model', content: text, parts, status: 'error', error: event.message });
      showError(event.message, () => void regenerate());
    }
  };
  const shownIn = currentId;
  try {
    if ('post' in source) await streamAnswer(source.post, source.body, controller.signal, onEvent);
    else if (!(await resumeAnswer(source.resume, controller.signal, onEvent))) return 'gone';
  } catch (error) {
    if (superseded) return 'superseded';
    if (controller.signal.aborted) {
      ended = true;
      if (answerElement) fill(answerElement, { role: 'model', content: text, parts, status: 'interrupted', error: null });
    } else if (!started && 'post' in source && source.reloadOnRefusal && shownIn) {
      showError(error instanceof ApiError ? error.message : 'The connection to the server failed.');
      void showConversation(shownIn, ++view).catch(() => undefined);
    } else {
      showError(error instanceof ApiError ? error.message : 'The connection to the server failed.', () => void regenerate());
    }
  } finally {
    answerElement?.removeAttribute('aria-busy');
    if (running === controller) {
      running = null;
      setBusy(false);
    }
    // An answer that ended early has no stored form in the stream: its actions come from the list.
    if (answerElement && started && !answerElement.querySelector(':scope > .actions') && shownIn) void showActionsOf(shownIn, answerElement);
    void refreshList();
  }
  return superseded ? 'superseded' : 'followed';
}

/** Gives a shown message its action row from the stored path (after a failed or stopped answer). */
async function showActionsOf(conversationId: string, element: HTMLElement): Promise<void> {
  const stored = (await api.messages(conversationId).catch(() => null))?.items.find((m) => String(m.id) === element.dataset.id);
  if (stored && element.isConnected) setMessageActions(element, stored, messageActions, running !== null);
}

async function sendPrompt(): Promise<void> {
  const prompt = input.value;
  if (!prompt.trim() || running || input.disabled) return;
  errorBox.hidden = true;
  setBusy(true); // at once, before the first await: no second send while the conversation is created
  try {
    if (!currentId) {
      const created = await api.create(pendingModel ? { model: pendingModel } : {});
      pendingModel = null;
      currentId = created.id;
      history.pushState(null, '', `?c=${created.id}`);
      void refreshList();
    }
  } catch (error) {
    setBusy(false);
    return showError(error instanceof ApiError ? error.message : 'Could not start a conversation.');
  }
  input.value = '';
  await answer({ post: `/api/conversations/${currentId}/messages`, body: { prompt } });
}

/** Retry: a new answer beside the active path's last one. */
async function regenerate(): Promise<void> {
  if (!currentId || running) return;
  setBusy(true);
  // The failed answer stays, one switch away from the new one; the new one takes its place in view.
  const last = log.lastElementChild as HTMLElement | null;
  if (last?.classList.contains('model') && last.dataset.status !== 'complete') last.remove();
  await answer({ post: `/api/conversations/${currentId}/regenerate` });
}

// ---- branches: edit a prompt, regenerate an answer, switch between versions ----------------

/** Takes a message and everything after it off the view: a new branch replaces them there. */
function removeFrom(element: HTMLElement): void {
  while (element.nextElementSibling) element.nextElementSibling.remove();
  element.remove();
}

/** Save in the inline editor: the new text follows the edited prompt's parent, a sibling of it. */
async function editPrompt(message: MessageJson, element: HTMLElement, text: string): Promise<void> {
  if (!currentId || running) return;
  errorBox.hidden = true;
  removeFrom(element);
  await answer({ post: `/api/conversations/${currentId}/messages`, body: { prompt: text, parentId: message.parentId }, reloadOnRefusal: true });
}

/** A new answer to the same prompt, beside this one. */
async function regenerateAnswer(message: MessageJson, element: HTMLElement): Promise<void> {
  if (!currentId || running) return;
  errorBox.hidden = true;
  removeFrom(element);
  await answer({ post: `/api/conversations/${currentId}/regenerate`, body: { messageId: message.id }, reloadOnRefusal: true });
}

/** ‹ or ›: the path through that sibling becomes the active one, shown with the switched message in view. */
async function switchBranch(siblingId: number): Promise<void> {
  const id = currentId;
  if (!id || running) return;
  errorBox.hidden = true;
  try {
    await api.update(id, { activeMessageId: siblingId });
    const opened = ++view;
    await showConversation(id, opened);
    if (view === opened) log.querySelector(`[data-id="${siblingId}"]`)?.scrollIntoView({ block: 'nearest' });
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not switch to that version.');
  }
}

/** The model picker: the open conversation's model; for a new chat, the one it will be created with. */
async function chooseModel(model: string | null): Promise<void> {
  const id = currentId;
  if (!id) {
    pendingModel = model;
    return;
  }
  try {
    const updated = await api.update(id, { model });
    conversations = conversations.map((c) => (c.id === updated.id ? updated : c));
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not change the model.');
    modelPicker.show(conversations.find((c) => c.id === id)?.model ?? null);
  }
}

async function renameConversation(conversation: ConversationJson): Promise<void> {
  const name = window.prompt('New name for this conversation', conversation.title ?? '');
  if (!name?.trim()) return;
  try {
    await api.update(conversation.id, { title: name });
    await refreshList();
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not rename.');
  }
}

async function deleteConversation(conversation: ConversationJson): Promise<void> {
  if (!window.confirm(`Delete “${titleOf(conversation)}” and all its messages?`)) return;
  try {
    await api.remove(conversation.id);
    await refreshList();
    if (conversation.id === currentId) await openConversation(null, true);
  } catch (error) {
    showError(error instanceof ApiError ? error.message : 'Could not delete.');
  }
}

// ---- wiring -----------------------------------------------------------------------------

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void sendPrompt();
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    void sendPrompt();
  }
});
// The answer runs on the server whether or not this page listens: Stop asks the server to end it,
// and the stream then ends with a `stopped` event.
stopButton.addEventListener('click', () => {
  if (currentId && running) void api.stop(currentId).catch(() => running?.abort());
});
newChatButton.addEventListener('click', () => void openConversation(null, true));
olderButton.addEventListener('click', () => void loadOlder());
filterInput.addEventListener('input', () => renderList());
/**
 * A tab coming back to the front catches up with what happened meanwhile (another tab asked, an
 * answer is running): if the conversation's newest message is not the one shown, as shown, it is
 * shown again, and a running answer followed live.
 */
async function catchUp(): Promise<void> {
  const id = currentId;
  if (running || !id) return;
  const opened = view;
  const newest = (await api.messages(id)).items.at(-1);
  if (view !== opened || running || !newest) return;
  const shown = log.lastElementChild as HTMLElement | null;
  if (shown?.dataset.timestamp === newest.timestamp && shown.dataset.status === newest.status) return;
  await showConversation(id, ++view);
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void catchUp().catch(() => undefined);
});

window.addEventListener('popstate', () => void openConversation(new URLSearchParams(location.search).get('c'), false));

async function start(): Promise<void> {
  try {
    const info = await api.info();
    setAllowRemoteImages(info.allowRemoteImages);
    $('offline-banner').hidden = !info.offline;
    const [models] = await Promise.all([api.models(), refreshList()]);
    modelPicker.setChoices(models);
  } catch {
    showError('Could not reach the server.', () => location.reload());
  }
  const requested = new URLSearchParams(location.search).get('c');
  await openConversation(requested && conversations.some((c) => c.id === requested) ? requested : null, false);
}

void start();
