import { Module } from '@nestjs/common';
import { ToolsModule } from '../tools/tools.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentService } from './agent.service.js';
import { CHAT_MODEL, type ChatModel } from './chat-model.js';
import { OfflineChatModel } from './drivers/offline/offline-chat-model.js';
import { OpenAiChatModel } from './drivers/openai/openai-chat-model.js';
import { observedChatModel } from '../telemetry/traced-chat-model.js';
import { OpenAiModelList } from './drivers/openai/openai-model-list.js';
import { ModelCatalog } from './model-catalog.service.js';
import { MODEL_LIST, type ModelList } from './model-list.js';

@Module({
  imports: [ToolsModule],
  providers: [
    {
      provide: CHAT_MODEL,
      inject: [APP_CONFIG],
      // observedChatModel: the model, traced and measured when OpenTelemetry runs.
      useFactory: ({ model }: AppConfig): ChatModel =>
        observedChatModel(model.kind === 'offline' ? new OfflineChatModel() : new OpenAiChatModel(model), model),
    },
    {
      provide: MODEL_LIST,
      inject: [APP_CONFIG],
      // The offline model serves itself alone: there is no server to ask.
      useFactory: ({ model }: AppConfig): ModelList | null => (model.kind === 'offline' ? null : new OpenAiModelList(model)),
    },
    AgentService,
    ModelCatalog,
  ],
  exports: [AgentService, ModelCatalog],
})
export class AgentModule {}
