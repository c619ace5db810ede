import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { AgentTools, TOOL_SOURCES } from './agent-tools.service.js';
import { CurrentTimeTool } from './built-in/current-time.tool.js';
import { SearchHistoryTool } from './built-in/search-history.tool.js';
import { McpToolSource } from './mcp/mcp-tool-source.js';
import { ProviderToolSource } from './providers/provider-tool-source.js';
import type { ToolSource } from './tool-source.js';

/**
 * What the model may call: `@AgentTool` methods of any provider in the app (the built-ins are
 * such providers, switched on by AGENT_TOOLS), and the tools of the MCP servers in MCP_CONFIG.
 */
@Module({
  imports: [DiscoveryModule, PersistenceModule],
  providers: [
    ProviderToolSource,
    McpToolSource,
    CurrentTimeTool,
    SearchHistoryTool,
    {
      provide: TOOL_SOURCES,
      inject: [ProviderToolSource, McpToolSource],
      useFactory: (providers: ProviderToolSource, mcp: McpToolSource): ToolSource[] => [providers, mcp],
    },
    AgentTools,
  ],
  exports: [AgentTools],
})
export class ToolsModule {}
