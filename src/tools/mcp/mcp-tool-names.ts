import { createHash } from 'node:crypto';

/** OpenAI's rule for function names, and ToolDefinition's. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX = 64;
const HASH_CHARS = 8;

export interface McpToolRef {
  readonly server: string;
  readonly tool: string;
}

/** `<server>_<tool>` with every other character made `_`; a longer name keeps its start and gets a hash of both parts. */
export function plainToolName({ server, tool }: McpToolRef): string {
  const name = `${sanitise(server)}_${sanitise(tool)}`;
  return name.length <= MAX ? name : hashed(name, { server, tool });
}

/**
 * The names offered to the model for these tools, in the same order. Names depend only on the
 * tools, never on the order servers answered in: a name that two tools would share (`a.b`+`c` and
 * `a_b`+`c`) is given to neither; each gets its hashed form instead. A name that still clashes
 * (only a hash collision could do that) is `undefined`: that tool is left out.
 */
export function assignToolNames(refs: readonly McpToolRef[]): (string | undefined)[] {
  const plain = refs.map(plainToolName);
  const count = new Map<string, number>();
  for (const name of plain) count.set(name, (count.get(name) ?? 0) + 1);
  const names = plain.map((name, i) => (count.get(name) === 1 ? name : hashed(name, refs[i])));
  const taken = new Map<string, number>();
  for (const name of names) taken.set(name, (taken.get(name) ?? 0) + 1);
  return names.map((name) => (taken.get(name) === 1 ? name : undefined));
}

function sanitise(part: string): string {
  return part.replace(/[^a-zA-Z0-9_-]/g, '_');
}

function hashed(name: string, { server, tool }: McpToolRef): string {
  const hash = createHash('sha256').update(`${server}\0${tool}`).digest('hex').slice(0, HASH_CHARS);
  return `${name.slice(0, MAX - HASH_CHARS - 1)}_${hash}`;
}
