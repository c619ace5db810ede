/**
 * The contract every source of tools implements (twenty's drivers pattern): provider methods
 * found through `@AgentTool`, the built-ins, and each MCP server. The registry (AgentTools)
 * offers their definitions to the model and does what is common to every call: JSON parsing,
 * validation against `parameters`, the timeout, the abort signal, the result cap.
 */

/** A JSON Schema for a tool's arguments: an object schema, as OpenAI function tools take it. */
export type JsonSchemaObject = { readonly type: 'object'; readonly [keyword: string]: unknown };

export interface ToolDefinition {
  /** As offered to the model: 1-64 of letters, digits, `_` and `-`, unique across sources. */
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchemaObject;
}

/** Who a call is for and how long it may run. */
export interface ToolCallContext {
  readonly toolCallId: string;
  /** The caller whose answer this is: a tool reads only what this owner may read. */
  readonly ownerId: string;
  readonly conversationId: string;
  /** Aborts on stop, shutdown, the answer's deadline, a disconnect when answers abort, and the tool timeout. */
  readonly signal: AbortSignal;
}

/**
 * A failure the model should read as it is (the message is shown to the model and stored);
 * any other error a tool throws reaches the model as a generic message, its detail only in the log.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

export interface ToolSource {
  /** For logs: `providers`, `built-in`, `mcp:<server>`. */
  readonly label: string;
  /** The tools this source offers now (an MCP server that is down offers none until it is back). */
  definitions(): readonly ToolDefinition[];
  /**
   * Runs one of its tools with arguments already parsed and validated. Resolves with the result:
   * a string is given to the model as it is, anything else as JSON. Rejects (ToolError or not)
   * for a tool error; must stop promptly when `context.signal` aborts.
   */
  call(name: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown>;
}
