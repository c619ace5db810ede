// Interim page for the seed endpoints (the full TypeScript page replaces it). Text is shown
// with textContent, never innerHTML, so nothing a model or a prompt says can run as script.
const conversation = document.getElementById('conversation');
const form = document.getElementById('prompt-form');
const input = document.getElementById('prompt-input');
const button = form.querySelector('button');
const spinner = document.getElementById('spinner');
const errorBox = document.getElementById('error');

function showMessage({ role, timestamp, content }) {
  const id = `msg-${timestamp}`;
  let element = document.getElementById(id);
  if (!element) {
    element = document.createElement('div');
    element.id = id;
    element.className = role;
    element.title = `${role} at ${timestamp}`;
    conversation.appendChild(element);
  }
  element.textContent = content;
}

/** Reads ndjson with a line buffer, so a line split across network reads is never parsed half. */
async function readLines(response, onLine) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffer += decoder.decode(value, { stream: !done });
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines) if (line.trim()) onLine(JSON.parse(line));
    if (done) break;
  }
  if (buffer.trim()) onLine(JSON.parse(buffer));
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function errorMessage(response) {
  try {
    return (await response.json()).message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function send(event) {
  event.preventDefault();
  errorBox.hidden = true;
  const body = new FormData(form);
  input.value = '';
  input.disabled = button.disabled = true;
  spinner.classList.add('active');
  try {
    const response = await fetch('/chat/', { method: 'POST', body });
    if (!response.ok) return showError(await errorMessage(response));
    await readLines(response, (message) => {
      spinner.classList.remove('active');
      showMessage(message);
      window.scrollTo({ top: document.body.scrollHeight });
    });
  } catch (error) {
    showError(`The connection failed: ${error.message}`);
  } finally {
    spinner.classList.remove('active');
    input.disabled = button.disabled = false;
    input.focus();
  }
}

async function load() {
  form.addEventListener('submit', send);
  try {
    const [history, info] = await Promise.all([fetch('/chat/'), fetch('/api/info')]);
    if (info.ok) document.getElementById('offline-banner').hidden = !(await info.json()).offline;
    if (!history.ok) return showError(await errorMessage(history));
    await readLines(history, showMessage);
  } catch (error) {
    showError(`Could not load the conversation: ${error.message}`);
  }
}

load();
