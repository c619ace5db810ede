import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../api-docs/openapi-decorators.js';
import { ModelCatalog } from '../agent/model-catalog.service.js';
import { ModelsSchema } from '../contract/api-schemas.js';
import type { ModelsJson } from '../contract/api-shapes.js';

/** The models a conversation may choose (PATCH /api/conversations/:id {model}). */
@ApiTags('info')
@Controller('api/models')
export class ModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get()
  @ApiOperation({
    summary: 'The models a conversation may choose',
    description:
      "OPENAI_MODELS if set; else what the model server's GET /v1/models lists (cached for 5 minutes; after 3 s without an answer, or on an error, OPENAI_MODEL alone, asked again after 30 s); else OPENAI_MODEL alone. The default (what answers a conversation that chose none) is always in the list.",
  })
  @ApiOkResponse({ type: ModelsSchema })
  models(): Promise<ModelsJson> {
    return this.catalog.choices();
  }
}
