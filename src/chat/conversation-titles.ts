const MAX_TITLE_CHARS = 80;

/** A conversation's title from its first prompt: the first non-empty line, trimmed, at most MAX_TITLE_CHARS characters. */
export function titleFrom(prompt: string): string {
  const line = prompt
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? '';
  const chars = [...line];
  return chars.length > MAX_TITLE_CHARS ? `${chars.slice(0, MAX_TITLE_CHARS - 1).join('')}…` : line;
}
