import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Ajv, ValidateFunction } from 'ajv';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { traceToolCall } from '../telemetry/tool-tracing.js';
import { type ToolCallContext, type ToolDefinition, ToolError, type ToolSource } from './tool-source.js';

export const TOOL_SOURCES = Symbol('TOOL_SOURCES');

/** `error.type` of a tool call whose outcome is an error (the model read it; the answer went on). */
const TOOL_ERROR_TYPE = 'tool_error';

/** A call as the model made it: its id, the tool's name, and the arguments as JSON text. */
export interface ToolCallRequest {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** What the model is given back: the result (capped), or what went wrong. */
export type ToolOutcome = { readonly output: string } | { readonly error: string };

/**
 * The tools the model is offered, from every source, and what every call goes through: the
 * name looked up, the arguments parsed and checked against the tool's schema, the timeout and
 * the answer's abort signal, the result made text and capped. Nothing a tool does fails the
 * answer: every failure is an outcome the model reads.
 */
@Injectable()
export class AgentTools {
  private readonly logger = new Logger(AgentTools.name);
  /** Loaded with the first call: an app without tools (the default) never loads ajv (README, Performance). */
  private ajv: Promise<Ajv> | undefined;
  private readonly validators = new WeakMap<object, ValidateFunction | null>();
  private readonly clashes = new Set<string>();

  constructor(
    @Inject(TOOL_SOURCES) private readonly sources: readonly ToolSource[],
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The tools offered now; a name two sources offer goes to the first (and is logged once). */
  definitions(): ToolDefinition[] {
    return [...this.byName().values()].map(({ definition }) => definition);
  }

  /** Runs one call (an `execute_tool` span when tracing); never throws. */
  run(call: ToolCallRequest, context: ToolCallContext): Promise<ToolOutcome> {
    return traceToolCall(call.name, call.id, () => this.execute(call, context), (outcome) =>
      'error' in outcome ? { type: TOOL_ERROR_TYPE, message: outcome.error } : undefined,
    );
  }

  private async execute(call: ToolCallRequest, context: ToolCallContext): Promise<ToolOutcome> {
    const tool = this.byName().get(call.name);
    if (!tool) {
      const names = this.definitions().map((definition) => definition.name);
      return { error: `There is no tool named "${call.name}". ${names.length > 0 ? `The tools are: ${names.join(', ')}.` : 'No tools are available.'}` };
    }
    const args = parseArguments(call.arguments);
    if ('error' in args) return args;
    const problems = await this.check(tool.definition, args.value);
    if (problems) return { error: `Invalid arguments: ${problems}` };

    const { timeoutMs } = this.config.tools;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([context.signal, timeout]);
    let stopped!: (reason: ToolOutcome) => void;
    const onAbort = () =>
      stopped(
        timeout.aborted
          ? { error: `The tool did not finish within ${timeoutMs / 1000} s (AGENT_TOOL_TIMEOUT_MS) and was stopped.` }
          : { error: 'The tool was stopped: the answer ended.' },
      );
    // A tool that ignores its signal is not waited for: the answer goes on (its late result is dropped).
    const aborted = new Promise<ToolOutcome>((resolve) => (stopped = resolve));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([
        aborted,
        // Through a promise even if `call` throws at once: every failure is an outcome.
        Promise.resolve()
          .then(() => tool.source.call(call.name, args.value, { ...context, signal }))
          .then(
          (result) => ({ output: this.capped(textOf(result)) }),
          (error: unknown): ToolOutcome => {
            if (signal.aborted) return { error: 'The tool was stopped.' };
            if (error instanceof ToolError) return { error: this.capped(error.message) };
            this.logger.warn(`Tool ${call.name} (${tool.source.label}) failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
            return { error: 'The tool failed (the server log has the details).' };
          },
        ),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private byName(): Map<string, { definition: ToolDefinition; source: ToolSource }> {
    const tools = new Map<string, { definition: ToolDefinition; source: ToolSource }>();
    for (const source of this.sources) {
      for (const definition of source.definitions()) {
        const first = tools.get(definition.name);
        if (!first) {
          tools.set(definition.name, { definition, source });
        } else if (!this.clashes.has(definition.name)) {
          this.clashes.add(definition.name);
          this.logger.warn(`Two tools are named "${definition.name}" (${first.source.label} and ${source.label}); the model is offered the first.`);
        }
      }
    }
    return tools;
  }

  /** The schema's complaints about the arguments, or null. A schema that does not compile checks nothing (and is logged once). */
  private async check(definition: ToolDefinition, args: Record<string, unknown>): Promise<string | null> {
    if (!this.validators.has(definition.parameters)) {
      this.ajv ??= import('ajv').then(({ Ajv: AjvClass }) => new AjvClass({ allErrors: true, strict: false }));
      let ajv: Ajv;
      try {
        ajv = await this.ajv;
      } catch (error) {
        this.ajv = undefined; // the next call tries again
        this.logger.error(`The JSON Schema validator (ajv) could not be loaded: ${String(error)}`);
        return 'could not be checked: the JSON Schema validator is not available';
      }
      // Another call may have compiled it while this one waited for ajv.
      if (!this.validators.has(definition.parameters)) this.validators.set(definition.parameters, this.compile(ajv, definition));
    }
    const validator = this.validators.get(definition.parameters);
    if (!validator || validator(args)) return null;
    return (validator.errors ?? []).map((error) => `${error.instancePath || 'arguments'} ${error.message ?? 'is invalid'}`).join('; ');
  }

  private compile(ajv: Ajv, definition: ToolDefinition): ValidateFunction | null {
    try {
      return ajv.compile(definition.parameters);
    } catch (error) {
      this.logger.warn(`The parameters of tool ${definition.name} are not a usable JSON Schema; its arguments go unchecked: ${String(error)}`);
      return null;
    }
  }

  /** At most AGENT_TOOL_RESULT_MAX_BYTES of UTF-8, cut on a character boundary, saying so. */
  private capped(text: string): string {
    const max = this.config.tools.resultMaxBytes;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= max) return text;
    let cut = Buffer.from(text, 'utf8').subarray(0, max).toString('utf8');
    if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1); // a character split by the cut
    return `${cut}\n[cut: the result was ${bytes} bytes; the first ${Buffer.byteLength(cut, 'utf8')} are shown (AGENT_TOOL_RESULT_MAX_BYTES)]`;
  }
}

function parseArguments(text: string): { value: Record<string, unknown> } | { error: string } {
  if (text.trim() === '') return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'The arguments were not valid JSON; send a JSON object.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'The arguments must be a JSON object.' };
  return { value: value as Record<string, unknown> };
}

function textOf(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '';
  try {
    return JSON.stringify(result) ?? typeof result;
  } catch {
    return `[a ${typeof result} that is not JSON]`; // a cycle, a BigInt
  }
}
