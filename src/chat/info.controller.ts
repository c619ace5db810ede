import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../api-docs/openapi-decorators.js';
import { AgentService } from '../agent/agent.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { InfoSchema } from '../contract/api-schemas.js';

/** What the page needs to label itself, e.g. a banner while the offline model answers. */
@ApiTags('info')
@Controller('api/info')
export class InfoController {
  constructor(
    private readonly agent: AgentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Which model answers, and what the page may show' })
  @ApiOkResponse({ type: InfoSchema })
  info(): InfoSchema {
    return { model: this.agent.modelName, offline: this.agent.offline, allowRemoteImages: this.config.allowRemoteImages };
  }
}
