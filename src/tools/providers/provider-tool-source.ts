import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { AGENT_TOOL, type AgentToolOptions } from '../agent-tool.decorator.js';
import { type JsonSchemaObject, type ToolCallContext, ToolError, type ToolDefinition, type ToolSource } from '../tool-source.js';

interface ProviderTool {
  readonly definition: ToolDefinition;
  invoke(args: Record<string, unknown>, context: ToolCallContext): Promise<unknown>;
}

const NO_ARGUMENTS: JsonSchemaObject = { type: 'object', properties: {}, additionalProperties: false };

/** Every provider method marked `@AgentTool`, found once at boot. */
@Injectable()
export class ProviderToolSource implements ToolSource, OnModuleInit {
  readonly label = 'providers';
  private readonly logger = new Logger(ProviderToolSource.name);
  private tools = new Map<string, ProviderTool>();
  private schemaLibrary: Promise<typeof import('class-validator-jsonschema')> | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const enabled = this.config.tools.enabled;
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const options = this.reflector.get<AgentToolOptions | undefined>(AGENT_TOOL, method);
        if (!options) continue;
        if (options.optIn && enabled !== '*' && !enabled.includes(options.name)) continue;
        if (!/^[a-zA-Z0-9_-]{1,64}$/.test(options.name)) throw new Error(`@AgentTool on ${wrapper.name}.${methodName}: the name "${options.name}" must be 1-64 letters, digits, _ or -`);
        if (this.tools.has(options.name)) throw new Error(`@AgentTool: two tools are named "${options.name}" (the second on ${wrapper.name}.${methodName})`);
        // Through a promise: a method that throws before returning one fails its call, not the loop.
        const run = (args: unknown, context: ToolCallContext) => Promise.resolve().then(() => (method as (...a: unknown[]) => unknown).call(instance, args, context));
        this.tools.set(options.name, await this.toolOf(options, run));
      }
    }
    if (enabled !== '*') {
      const unknown = enabled.filter((name) => !this.tools.has(name));
      if (unknown.length > 0) this.logger.warn(`AGENT_TOOLS names tools no provider offers: ${unknown.join(', ')}`);
    }
  }

  definitions(): readonly ToolDefinition[] {
    return [...this.tools.values()].map((tool) => tool.definition);
  }

  call(name: string, args: Record<string, unknown>, context: ToolCallContext): Promise<unknown> {
    const tool = this.tools.get(name);
    if (!tool) return Promise.reject(new ToolError(`Unknown tool "${name}".`));
    return tool.invoke(args, context);
  }

  private async toolOf(options: AgentToolOptions, run: (args: unknown, context: ToolCallContext) => Promise<unknown>): Promise<ProviderTool> {
    const { parameters } = options;
    if (typeof parameters !== 'function') {
      return { definition: { name: options.name, description: options.description, parameters: parameters ?? NO_ARGUMENTS }, invoke: run };
    }
    // A DTO class: its class-validator decorators are both the schema offered and the check made.
    // The library that reads them is loaded only here: an app without such a tool never loads it.
    this.schemaLibrary ??= import('class-validator-jsonschema');
    const { targetConstructorToSchema } = await this.schemaLibrary;
    const schema = { ...targetConstructorToSchema(parameters), type: 'object' } as JsonSchemaObject;
    return {
      definition: { name: options.name, description: options.description, parameters: schema },
      invoke: async (args, context) => {
        const dto = plainToInstance(parameters, args);
        const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
        if (errors.length > 0) throw new ToolError(`Invalid arguments: ${describe(errors).join('; ')}`);
        return run(dto, context);
      },
    };
  }
}

function describe(errors: readonly ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const at = path ? `${path}.${error.property}` : error.property;
    return [...Object.values(error.constraints ?? {}).map((message) => (message.startsWith(error.property) ? `${path ? `${path}.` : ''}${message}` : `${at}: ${message}`)), ...describe(error.children ?? [], at)];
  });
}
