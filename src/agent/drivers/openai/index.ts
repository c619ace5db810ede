// The openai driver's entry: loaded once, and only when it is the configured model (agent.module).
export { OpenAiChatModel } from './openai-chat-model.js';
export { OpenAiModelList } from './openai-model-list.js';
