import { createHash } from 'node:crypto';

/**
 * Bearer tokens from API_TOKENS, each its own owner. Tokens are kept only as SHA-256 digests,
 * looked up by digest (no comparison that leaks timing), and the owner id is a digest prefix,
 * so neither the database nor the logs ever hold a token.
 */
export class ApiTokens {
  private readonly owners = new Map<string, string>();

  constructor(tokens: readonly string[]) {
    for (const token of tokens) {
      const digest = sha256(token);
      this.owners.set(digest, `token:${digest.slice(0, 32)}`);
    }
  }

  /** The owner of `Bearer <token>`, or undefined for any other header value. */
  ownerFor(authorization: string): string | undefined {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    return match ? this.owners.get(sha256(match[1])) : undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
