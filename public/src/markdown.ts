import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked } from 'marked';

for (const [name, language] of Object.entries({ bash, css, javascript, json, python, sql, typescript, xml, yaml })) {
  hljs.registerLanguage(name, language);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = lang && hljs.getLanguage(lang) ? lang : undefined;
      const highlighted = language ? hljs.highlight(text, { language }).value : hljs.highlightAuto(text).value;
      return `<pre><code class="hljs${language ? ` language-${language}` : ''}">${highlighted}</code></pre>\n`;
    },
  },
});

let allowRemoteImages = false;

export function setAllowRemoteImages(allow: boolean): void {
  allowRemoteImages = allow;
}

// Runs on every element DOMPurify keeps: links open in a new tab without access to this page;
// remote images lose their src (so nothing loads) and are turned into links afterwards.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  if (node.tagName === 'IMG' && !allowRemoteImages) {
    const url = new URL(node.getAttribute('src') ?? '', location.href);
    if (url.origin !== location.origin && url.protocol !== 'data:') {
      node.removeAttribute('src');
      node.setAttribute('data-blocked-src', url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '');
    }
  }
});

/** Markdown to safe DOM: rendered, highlighted, then sanitised (no scripts, handlers, javascript: URLs, forms or styles). */
export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source, { async: false });
  const fragment = DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  for (const image of fragment.querySelectorAll<HTMLImageElement>('img[data-blocked-src]')) {
    const href = image.getAttribute('data-blocked-src') ?? '';
    const link = document.createElement('a');
    link.textContent = `[image: ${image.alt || (href ? new URL(href).hostname : 'blocked')}]`;
    link.title = 'Remote images are not loaded';
    if (href) {
      link.href = href;
      link.target = '_blank';
      link.rel = 'noopener noreferrer nofollow';
    }
    image.replaceWith(link);
  }
  return fragment;
}
