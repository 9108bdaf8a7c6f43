import { Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DockerEngine, ImageCatalog } from '@drydock/docker';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** The engine adapter and the cached image catalogue, one of each per process. */
@Module({
  providers: [
    {
      provide: DockerEngine,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new DockerEngine({ dockerHost: config.dockerHost }),
    },
    {
      provide: ImageCatalog,
      inject: [DockerEngine],
      useFactory: (engine: DockerEngine) => new ImageCatalog(engine),
    },
  ],
  exports: [DockerEngine, ImageCatalog],
})
export class EngineModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(ImageCatalog) private readonly catalog: ImageCatalog) {}

  onModuleInit(): void {
    this.catalog.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.catalog.stop();
  }
}
