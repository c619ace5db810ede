import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { shutdownTelemetry } from './telemetry-config.js';

/** Exports the spans and metrics still buffered when the app shuts down, after the answers in flight are drained. */
@Injectable()
class TelemetryShutdown implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return shutdownTelemetry();
  }
}

@Module({ providers: [TelemetryShutdown] })
export class TelemetryModule {}
