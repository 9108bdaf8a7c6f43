import { DynamicModule, Global, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { AdminTokenGuard } from './admin-token.guard';
import { DrydockMetrics } from './drydock-metrics';
import { MetricsServer } from './metrics-server';
import { MetricsController, WorkerMetricsController } from './metrics.controller';

/**
 * The app's metrics, for every role: /metrics on the app's port for an admin
 * token, and on METRICS_PORT without one. Global, so that the modules that
 * count (jobs, engines, event streams) inject it without importing it.
 */
@Global()
@Module({})
export class MetricsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MetricsServer) private readonly server: MetricsServer,
  ) {}

  static forRoot(config: AppConfig): DynamicModule {
    const worker = config.role === 'worker';
    return {
      module: MetricsModule,
      controllers: [worker ? WorkerMetricsController : MetricsController],
      providers: [
        { provide: DrydockMetrics, useFactory: () => new DrydockMetrics() },
        { provide: MetricsServer, inject: [DrydockMetrics], useFactory: (metrics: DrydockMetrics) => new MetricsServer(metrics) },
        ...(worker ? [AdminTokenGuard] : []),
      ],
      exports: [DrydockMetrics, MetricsServer],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.metrics) return;
    const { port, host } = this.config.metrics;
    const address = await this.server.listen(port, host);
    this.logger.log(`metrics without a token on http://${address.address}:${address.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }
}
