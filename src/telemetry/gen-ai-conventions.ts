import { createContextKey } from '@opentelemetry/api';

/**
 * The OpenTelemetry GenAI semantic conventions this app emits (status: Development). Copied as
 * strings, as OpenTelemetry advises for conventions that are not stable: the package's
 * incubating entry point is large, and its names may move.
 */
export const GEN_AI = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  AGENT_NAME: 'gen_ai.agent.name',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_STREAM: 'gen_ai.request.stream',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  TOKEN_TYPE: 'gen_ai.token.type',
  TOOL_NAME: 'gen_ai.tool.name',
  TOOL_CALL_ID: 'gen_ai.tool.call.id',
  TOOL_TYPE: 'gen_ai.tool.type',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
  SYSTEM_INSTRUCTIONS: 'gen_ai.system_instructions',
} as const;

export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';
export const ERROR_TYPE = 'error.type';

/** This app's own: how an answer ended (`complete`, `error`, `interrupted`; `refused` before anything was stored). */
export const ANSWER_STATUS = 'chat.answer.status';

/** The agent this app runs, as `gen_ai.agent.name` and in the `invoke_agent` span's name. */
export const AGENT_NAME = 'chat-app';

/** `error.type` of a model call or tool call its signal stopped (a stop, a disconnect, a timeout, shutdown). */
export const CANCELLED = 'cancelled';

/** The tracer and meter name (the instrumentation scope of every span and metric below). */
export const INSTRUMENTATION_SCOPE = 'nest-chat-app';

/** The conversation an answer's spans belong to, carried in the context from `invoke_agent` to its model and tool calls. */
export const CONVERSATION_KEY = createContextKey('chat-app.conversation-id');
