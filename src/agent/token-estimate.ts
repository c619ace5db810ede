/**
 * A documented approximation instead of a tokenizer: about 4 bytes of UTF-8 per token (close
 * for English with BPE tokenizers, and on the safe side for most other scripts), plus 4 tokens
 * of per-message overhead as in OpenAI's chat format. It costs one pass over the bytes and
 * needs no model-specific vocabulary, which local servers would not share anyway.
 */
export function estimateTokens(content: string): number {
  return Math.ceil(Buffer.byteLength(content, 'utf8') / 4) + 4;
}
