import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { RateLimits } from './access/rate-limits.js';
import { AgentService } from './agent/agent.service.js';
import { createApp } from './app.factory.js';
import { releaseYoungGeneration } from './common/start-up-heap.js';
import { ConfigError, describeModel, isLoopbackHost, loadConfig } from './config/app-config.js';
import { createAppLogger } from './logging/app-logger.js';
import { startedTelemetry } from './telemetry/telemetry-config.js';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config, { logger: createAppLogger(config.log) });
  await app.listen(config.port, config.host);
  releaseYoungGeneration();

  const logger = new Logger('Bootstrap');
  const agent = app.get(AgentService);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logger.log(`Model: ${describeModel(config.model)}`);
  if (agent.offline) logger.warn('No model configured: the built-in OFFLINE model answers. Set OPENAI_API_KEY or OPENAI_BASE_URL for a real one.');
  logger.log(`Storage: ${config.database.type === 'sqlite' ? `SQLite ${config.database.path}` : 'PostgreSQL'}`);
  logger.log(`Access: AUTH_MODE=${config.access.mode}`);
  logger.log(describeTelemetry());
  logger.log(
    app.get(RateLimits).store === 'redis'
      ? 'Limits: rate limits and stream slots in Redis (REDIS_URL), shared by every instance; per instance while Redis is away'
      : 'Limits: rate limits and stream slots in memory, per instance',
  );
  if (config.database.type === 'postgres' && !config.redisUrl) {
    logger.warn(
      'PostgreSQL without REDIS_URL: resume and stop reach only answers running on the instance a request lands on, and each ' +
        'instance counts the rate and stream limits on its own (N instances allow N times them). Set REDIS_URL to share them.',
    );
  }
  if (config.access.mode === 'none' && !isLoopbackHost(config.host)) {
    const bar = '!'.repeat(96);
    logger.warn(
      `\n${bar}\n  AUTH_MODE=none on HOST=${config.host}: ANYONE who can reach this address can read every conversation and\n` +
        `  spend your model budget. Set AUTH_MODE=cookie (with SESSION_SECRET) or AUTH_MODE=token (with API_TOKENS),\n` +
        `  or bind to 127.0.0.1 behind a proxy that authenticates.\n${bar}`,
    );
  }
  logger.log(`Chat app ready on http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}/ ${Math.round(process.uptime() * 1000)} ms after process start`);
}

function describeTelemetry(): string {
  const telemetry = startedTelemetry();
  if (!telemetry) return 'OpenTelemetry: off (no OTEL_*_EXPORTER or OTLP endpoint set; see README, Observability)';
  const exported = [telemetry.traces && 'traces', telemetry.metrics && 'metrics'].filter(Boolean).join(' and ');
  const prometheus = telemetry.prometheus ? `; Prometheus metrics on port ${telemetry.prometheus.port} at /metrics` : '';
  return `OpenTelemetry: exporting ${exported}${prometheus}${telemetry.captureMessageContent ? '; message content on spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)' : ''}`;
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('The chat app could not start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
