import { Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DockerEngine, EnginePool } from '@drydock/docker';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { MergedCatalog } from './merged-catalog';

/**
 * Every configured engine, each with its adapter and the catalogue that
 * follows its events, one pool per process. DockerEngine alone is the first
 * engine's, for the one call any engine answers alike (a registry login check).
 */
@Module({
  providers: [
    {
      provide: EnginePool,
      inject: [APP_CONFIG, { token: DrydockMetrics, optional: true }],
      useFactory: (config: AppConfig, metrics?: DrydockMetrics) =>
        new EnginePool(config.engines, (spec) =>
          new DockerEngine({ name: spec.name, dockerHost: spec.host, tls: spec.tls, onRequest: metrics && ((operation, seconds) => metrics.engineRequest(spec.name, operation, seconds)) }),
        ),
    },
    {
      provide: DockerEngine,
      inject: [EnginePool],
      useFactory: (pool: EnginePool) => pool.first.engine,
    },
    {
      provide: MergedCatalog,
      inject: [EnginePool],
      useFactory: (pool: EnginePool) => new MergedCatalog(pool),
    },
  ],
  exports: [EnginePool, DockerEngine, MergedCatalog],
})
export class EngineModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(EnginePool) private readonly pool: EnginePool) {}

  onModuleInit(): void {
    this.pool.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.stop();
  }
}
