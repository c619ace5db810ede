import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { CHAT_MODEL, type ChatModel } from './chat-model.js';
import { MODEL_LIST, type ModelList } from './model-list.js';

/** Where the list came from: OPENAI_MODELS, the model server's GET /models, or OPENAI_MODEL alone. */
export type ModelSource = 'OPENAI_MODELS' | 'upstream' | 'OPENAI_MODEL';

/** The models conversations may choose from. */
export interface ModelChoices {
  /** What answers when a conversation chose none (OPENAI_MODEL, or the offline model); always one of `models`. */
  readonly default: string;
  readonly models: readonly string[];
  readonly source: ModelSource;
}

/** How long the model server may take to list its models before the default alone is offered. */
export const MODEL_LIST_TIMEOUT_MS = 3_000;
/** How long a list the server gave is used before it is asked again. */
export const MODEL_LIST_TTL_MS = 5 * 60_000;
/** After a failed listing, the default alone is offered this long before the server is asked again. */
export const MODEL_LIST_RETRY_MS = 30_000;

/**
 * The models users may pick per conversation: OPENAI_MODELS if set, else what the model
 * server's GET /models returns (cached, with a timeout), else OPENAI_MODEL alone. Concurrent
 * callers share one request to the server.
 */
@Injectable()
export class ModelCatalog {
  private readonly logger = new Logger(ModelCatalog.name);
  private cached: { readonly choices: ModelChoices; readonly until: number } | undefined;
  private asking: Promise<ModelChoices> | undefined;

  constructor(
    @Inject(CHAT_MODEL) private readonly model: ChatModel,
    @Inject(MODEL_LIST) private readonly upstream: ModelList | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async choices(): Promise<ModelChoices> {
    const configured = this.config.model.kind === 'openai' ? this.config.model.choices : [];
    if (configured.length > 0) return this.withDefault(configured, 'OPENAI_MODELS');
    if (!this.upstream) return this.withDefault([], 'OPENAI_MODEL');
    if (this.cached && performance.now() < this.cached.until) return this.cached.choices;
    return (this.asking ??= this.ask(this.upstream).finally(() => (this.asking = undefined)));
  }

  /** Whether a conversation may choose this model. */
  async allows(model: string): Promise<boolean> {
    return (await this.choices()).models.includes(model);
  }

  private async ask(upstream: ModelList): Promise<ModelChoices> {
    let choices: ModelChoices;
    let ttl = MODEL_LIST_TTL_MS;
    try {
      const listed = await upstream.list(AbortSignal.timeout(MODEL_LIST_TIMEOUT_MS));
      choices = this.withDefault([...new Set(listed)].sort(), listed.length > 0 ? 'upstream' : 'OPENAI_MODEL');
    } catch (error) {
      this.logger.warn(`The model server's list of models could not be read (${String(error)}); offering ${this.model.name} alone for now.`);
      choices = this.withDefault([], 'OPENAI_MODEL');
      ttl = MODEL_LIST_RETRY_MS;
    }
    this.cached = { choices, until: performance.now() + ttl };
    return choices;
  }

  /** The default answers conversations that chose nothing, so it is always offered, first when the list lacks it. */
  private withDefault(models: readonly string[], source: ModelSource): ModelChoices {
    const fallback = this.model.name;
    return { default: fallback, models: models.includes(fallback) ? models : [fallback, ...models], source };
  }
}
