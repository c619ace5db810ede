import { PayloadTooLargeException } from '@nestjs/common';

/** Refuses a prompt over the limit, counted in characters (code points), not UTF-16 units. */
export function assertPromptFits(prompt: string, maxChars: number): void {
  if (prompt.length <= maxChars) return;
  let count = 0;
  for (const _ of prompt) {
    if (++count > maxChars) throw new PayloadTooLargeException(`prompt is longer than the limit of ${maxChars} characters`);
  }
}
