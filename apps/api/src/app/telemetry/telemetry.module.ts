import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { stopTracing } from './tracing';

/**
 * Exports the spans still held when the process stops. Global on purpose:
 * Nest runs global modules' shutdown hooks last, so the worker has closed
 * and its last job spans have ended by then.
 */
@Global()
@Module({})
export class TelemetryModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}
