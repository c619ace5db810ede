import { Injectable, Module } from '@nestjs/common';
import { IsString, Length } from 'class-validator';
import { AgentTool } from '../../src/tools/agent-tool.decorator.js';
import { type ToolCallContext, ToolError } from '../../src/tools/tool-source.js';

export class GreetArguments {
  @IsString()
  @Length(1, 20)
  name!: string;
}

/** Provider tools for the tests, registered the way an integrator registers theirs (a module passed to the app). */
@Injectable()
export class TestTools {
  readonly calls: { tool: string; args: unknown; ownerId: string; conversationId: string }[] = [];
  /** Tool call ids whose signal aborted while the tool ran. */
  readonly aborted: string[] = [];
  private releaseStarted: (() => void)[] = [];

  /** Resolves once a `hang` call has started. */
  whenHanging(): Promise<void> {
    return new Promise((resolve) => this.releaseStarted.push(resolve));
  }

  @AgentTool({
    name: 'lookup_order',
    description: 'Looks up an order by its id.',
    parameters: { type: 'object', properties: { orderId: { type: 'string', minLength: 2 } }, required: ['orderId'], additionalProperties: false },
  })
  lookupOrder(args: { orderId: string }, context: ToolCallContext) {
    this.record('lookup_order', args, context);
    return { orderId: args.orderId, status: 'shipped', eta: '2026-12-24' };
  }

  @AgentTool({ name: 'greet', description: 'Greets someone by name.', parameters: GreetArguments })
  greet(args: GreetArguments, context: ToolCallContext): string {
    this.record('greet', args, context);
    // A DTO tool gets an instance of its class, validated.
    return `Hello, ${args.name}! (${args instanceof GreetArguments ? 'dto' : 'plain'})`;
  }

  @AgentTool({ name: 'explode', description: 'Always fails.' })
  explode(args: unknown, context: ToolCallContext): never {
    this.record('explode', args, context);
    throw new Error('kaboom: internal detail the model must not see');
  }

  @AgentTool({ name: 'refuse', description: 'Fails with a message for the model.' })
  refuse(args: unknown, context: ToolCallContext): never {
    this.record('refuse', args, context);
    throw new ToolError('No such order; ask the user for the order id.');
  }

  @AgentTool({ name: 'hang', description: 'Never finishes on its own; stops when its signal aborts.' })
  hang(args: unknown, context: ToolCallContext): Promise<never> {
    this.record('hang', args, context);
    for (const release of this.releaseStarted.splice(0)) release();
    return new Promise((_, reject) => {
      context.signal.addEventListener('abort', () => {
        this.aborted.push(context.toolCallId);
        reject(new Error('aborted'));
      });
    });
  }

  @AgentTool({ name: 'huge', description: 'Returns a megabyte of text.' })
  huge(args: unknown, context: ToolCallContext): string {
    this.record('huge', args, context);
    return 'é'.repeat(500_000); // 1,000,000 bytes of UTF-8, two per character
  }

  private record(tool: string, args: unknown, context: ToolCallContext): void {
    this.calls.push({ tool, args, ownerId: context.ownerId, conversationId: context.conversationId });
  }
}

@Module({ providers: [TestTools] })
export class TestToolsModule {}
