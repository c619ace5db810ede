import { Module } from '@nestjs/common';
import { ToolsModule } from '../tools/tools.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentService } from './agent.service.js';
import { CHAT_MODEL, type ChatModel } from './chat-model.js';
import { OfflineChatModel } from './drivers/offline/offline-chat-model.js';
import { observedChatModel } from '../telemetry/traced-chat-model.js';
import { ModelCatalog } from './model-catalog.service.js';
import { MODEL_LIST, type ModelList } from './model-list.js';

@Module({
  imports: [ToolsModule],
  providers: [
    {
      provide: CHAT_MODEL,
      inject: [APP_CONFIG],
      // The openai driver (and the SDK under it) is loaded only when it is the one configured;
      // observedChatModel: the model, traced and measured when OpenTelemetry runs.
      useFactory: async ({ model }: AppConfig): Promise<ChatModel> =>
        observedChatModel(
          model.kind === 'offline' ? new OfflineChatModel() : new (await import('./drivers/openai/openai-chat-model.js')).OpenAiChatModel(model),
          model,
        ),
    },
    {
      provide: MODEL_LIST,
      inject: [APP_CONFIG],
      // The offline model serves itself alone: there is no server to ask.
      useFactory: async ({ model }: AppConfig): Promise<ModelList | null> =>
        model.kind === 'offline' ? null : new (await import('./drivers/openai/openai-model-list.js')).OpenAiModelList(model),
    },
    AgentService,
    ModelCatalog,
  ],
  exports: [AgentService, ModelCatalog],
})
export class AgentModule {}
