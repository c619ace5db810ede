import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessModule } from './access/access.module.js';
import { AiSdkModule } from './ai-sdk/ai-sdk.module.js';
import { ChatModule } from './chat/chat.module.js';
import { BodyTypeInterceptor } from './common/body-type.interceptor.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ConversationsModule } from './conversations/conversations.module.js';
import { HealthModule } from './health/health.module.js';
import { databaseOptions } from './persistence/database-options.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import { StaticModule } from './static/static.module.js';
import { ExampleToolsModule } from './example-tools/example-tools.module.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';

@Module({})
export class AppModule {
  /** `imports`: the integrator's own modules (their `@AgentTool` providers become tools). */
  static forRoot(config: AppConfig, imports: NonNullable<ModuleMetadata['imports']> = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ ...databaseOptions(config.database), retryAttempts: 0 }),
        PersistenceModule,
        AccessModule,
        ChatModule,
        ConversationsModule,
        AiSdkModule,
        HealthModule,
        StaticModule,
        TelemetryModule,
        ExampleToolsModule,
        ...imports,
      ],
      providers: [
        // Global enhancers through DI: every route's errors become JSON, and no route takes a body no parser read.
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: BodyTypeInterceptor },
      ],
    };
  }
}
