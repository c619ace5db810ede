// Copy buttons: on every message, and on every code block of an answer.

/** Puts text on the clipboard; false when the browser refuses (no permission, no clipboard). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A small button that copies what `text()` gives when clicked and says so for a moment. */
export function copyButton(text: () => string, label: string, className = 'small copy'): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = 'Copy';
  button.setAttribute('aria-label', label);
  button.addEventListener('click', () => {
    void copyText(text()).then((copied) => {
      button.textContent = copied ? 'Copied' : 'Copy failed';
      setTimeout(() => (button.textContent = 'Copy'), 1500);
    });
  });
  return button;
}

/**
 * Gives each code block of a rendered answer its own Copy button (the code as written, without
 * the highlighting). The buttons are the page's own elements, added after sanitising.
 */
export function addCodeCopyButtons(body: HTMLElement): void {
  for (const pre of body.querySelectorAll<HTMLPreElement>('pre')) {
    if (pre.parentElement?.classList.contains('code-block')) continue;
    const block = document.createElement('div');
    block.className = 'code-block';
    pre.replaceWith(block);
    const code = pre.querySelector('code') ?? pre;
    block.append(pre, copyButton(() => code.textContent ?? '', 'Copy code', 'small copy copy-code'));
  }
}
