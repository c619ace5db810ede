import { Controller, Get } from '@nestjs/common';
import { AgentService } from '../agent/agent.service.js';

/** What the page needs to label itself, e.g. a banner while the offline model answers. */
@Controller('api/info')
export class InfoController {
  constructor(private readonly agent: AgentService) {}

  @Get()
  info(): { model: string; offline: boolean } {
    return { model: this.agent.modelName, offline: this.agent.offline };
  }
}
