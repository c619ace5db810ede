import { SetMetadata } from '@nestjs/common';
import type { JsonSchemaObject, ToolCallContext } from './tool-source.js';

export interface AgentToolOptions {
  /** As the model sees it: 1-64 of letters, digits, `_` and `-`. */
  readonly name: string;
  /** What the tool does and when to use it: the model decides from this alone. */
  readonly description: string;
  /**
   * The arguments: a JSON Schema object, or a class-validator DTO class (its decorators give the
   * schema the model is offered, and validate the arguments into an instance of it). None: no arguments.
   */
  readonly parameters?: JsonSchemaObject | (new () => object);
  /** Offered only when AGENT_TOOLS names it (the built-ins and the example do this); otherwise always. */
  readonly optIn?: boolean;
}

export const AGENT_TOOL = Symbol('AGENT_TOOL');

/** The method a tool call runs: the validated arguments and the call's context; returns the result (string or JSON value). */
export type AgentToolMethod<A = never> = (args: A, context: ToolCallContext) => unknown;

/**
 * Makes a provider method a tool the model may call. The provider is found at boot through
 * Nest's DiscoveryService wherever it is registered; nothing else is needed (README, "Tools").
 */
export const AgentTool = (options: AgentToolOptions): MethodDecorator => SetMetadata(AGENT_TOOL, options);
