import Database from 'better-sqlite3';

export interface MessageRow {
  id: number;
  conversation_id: string;
  role: string;
  content: string;
  status: string;
  error: string | null;
  model: string | null;
  timestamp: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/** Reads the app's SQLite file directly, as a second client would (WAL lets it read while the app writes). */
export function readMessages(path: string): MessageRow[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM messages ORDER BY id').all() as MessageRow[];
  } finally {
    db.close();
  }
}

/** Polls until `predicate` holds for the stored rows, or fails after `timeoutMs`. */
export async function waitForMessages(
  path: string,
  predicate: (rows: MessageRow[]) => boolean,
  timeoutMs = 2000,
): Promise<MessageRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = readMessages(path);
    if (predicate(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`stored messages never matched: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
