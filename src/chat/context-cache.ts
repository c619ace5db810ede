import type { ContextEntry } from './answer-context.js';

/** Bytes an entry is counted at beyond its text: its objects, the turns' and the map's slot. */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Context entries of finished messages, by message id, within a budget of bytes, for the answers
 * of this process: every answer in a conversation reads the same path above its prompt, and the
 * messages on it no longer change. Shared, the entries cost one copy however many answers hold
 * them, and a walk that finds them here makes no database read. The oldest entries in go first
 * when the budget is spent (a hit does not move one: a conversation still in use has its entries
 * put back by its next read).
 */
export class ContextCache {
  private readonly entries = new Map<number, { readonly entry: ContextEntry; readonly bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** Bytes held, as counted against the budget. */
  get size(): number {
    return this.bytes;
  }

  get(id: number): ContextEntry | undefined {
    return this.entries.get(id)?.entry;
  }

  /**
   * Keeps an entry; `textLength`: the characters of its message's content and parts, counted at
   * two bytes each (V8 keeps text outside Latin-1 at two; parts become objects when read): an
   * estimate on the safe side, not a measure.
   */
  keep(entry: ContextEntry, textLength: number): void {
    if (!this.enabled || this.entries.has(entry.id)) return;
    const bytes = 2 * textLength + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    this.entries.set(entry.id, { entry, bytes });
    this.bytes += bytes;
    for (const [id, oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= oldest.bytes;
    }
  }
}
