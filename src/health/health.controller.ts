import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '../api-docs/openapi-decorators.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HEALTH_PATH, READY_PATH } from '../common/probe-paths.js';
import { ReadinessService } from './readiness.service.js';

/** For load balancers and orchestrators. No auth, no rate limit. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly readiness: ReadinessService,
  ) {}

  /** Liveness: the process serves and the database answers (a restart would not help otherwise). */
  @Get(HEALTH_PATH.slice(1))
  @ApiOperation({ summary: 'Liveness and database reachability' })
  @ApiOkResponse({ description: '{"status":"ok"}' })
  @ApiServiceUnavailableResponse({ description: 'The database does not answer' })
  async check(): Promise<{ status: 'ok' }> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException('The database does not answer');
    }
    return { status: 'ok' };
  }

  /** Readiness: whether to send traffic here; 503 from the moment SIGTERM arrives. */
  @Get(READY_PATH.slice(1))
  @ApiOperation({ summary: 'Readiness: the database (and Redis, with REDIS_URL) answers, and the instance is not shutting down' })
  @ApiOkResponse({ description: '{"status":"ready"}' })
  @ApiServiceUnavailableResponse({ description: 'Shutting down, or the database or Redis does not answer' })
  async ready(): Promise<{ status: 'ready' }> {
    const problem = await this.readiness.problem();
    if (problem) throw new ServiceUnavailableException(problem);
    return { status: 'ready' };
  }
}
