import { Module } from '@nestjs/common';
import { ToolsModule } from '../tools/tools.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AgentService } from './agent.service.js';
import { CHAT_MODEL, type ChatModel } from './chat-model.js';
import { OfflineChatModel } from './drivers/offline/offline-chat-model.js';
import { observedChatModel } from '../telemetry/traced-chat-model.js';
import { ModelCatalog } from './model-catalog.service.js';
import { MODEL_LIST, type ModelList } from './model-list.js';

/** What the openai driver serves when it is the configured model. */
interface OpenAiDriver {
  readonly chatModel: ChatModel;
  readonly modelList: ModelList;
}
const OPENAI_DRIVER = Symbol('OPENAI_DRIVER');

@Module({
  imports: [ToolsModule],
  providers: [
    {
      // The openai driver (and the SDK under it) is loaded only when it is the one configured, and
      // through one import: jest's ESM loader fails on two dynamic imports of one graph at once.
      provide: OPENAI_DRIVER,
      inject: [APP_CONFIG],
      useFactory: async ({ model }: AppConfig): Promise<OpenAiDriver | null> => {
        if (model.kind === 'offline') return null;
        const { OpenAiChatModel, OpenAiModelList } = await import('./drivers/openai/index.js');
        return { chatModel: new OpenAiChatModel(model), modelList: new OpenAiModelList(model) };
      },
    },
    {
      provide: CHAT_MODEL,
      inject: [APP_CONFIG, OPENAI_DRIVER],
      // observedChatModel: the model, traced and measured when OpenTelemetry runs.
      useFactory: ({ model }: AppConfig, openai: OpenAiDriver | null): ChatModel => observedChatModel(openai?.chatModel ?? new OfflineChatModel(), model),
    },
    {
      provide: MODEL_LIST,
      inject: [OPENAI_DRIVER],
      // The offline model serves itself alone: there is no server to ask.
      useFactory: (openai: OpenAiDriver | null): ModelList | null => openai?.modelList ?? null,
    },
    AgentService,
    ModelCatalog,
  ],
  exports: [AgentService, ModelCatalog],
})
export class AgentModule {}
