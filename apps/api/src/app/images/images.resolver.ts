import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { DockerEngine, ImageCatalog } from '@drydock/docker';
import { iteratorFromListener } from '../common/async-queue';
import { EngineInfo, Image, ImageEvent, ImageFilter, ImageLayer, PruneResult, RemoveImageResult, SearchResult } from './image.model';
import { PruneImagesBody, SearchQueryDto } from './images.dto';
import { ImagesService } from './images.service';

@Resolver(() => Image)
export class ImagesResolver {
  constructor(
    private readonly service: ImagesService,
    @Inject(DockerEngine) private readonly docker: DockerEngine,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
  ) {}

  @Query(() => [Image])
  images(@Args('filter', { type: () => ImageFilter, nullable: true }) filter?: ImageFilter): Promise<Image[]> {
    return this.service.list(filter ?? {});
  }

  @Query(() => Image, { nullable: true })
  image(@Args('ref') ref: string): Promise<Image | null> {
    return this.service.find(ref);
  }

  @Query(() => [ImageLayer])
  imageHistory(@Args('ref') ref: string): Promise<ImageLayer[]> {
    return this.service.history(ref);
  }

  @Query(() => [SearchResult])
  searchImages(@Args() args: SearchQueryDto): Promise<SearchResult[]> {
    return this.service.search(args);
  }

  @Query(() => EngineInfo)
  engine(): Promise<EngineInfo> {
    return this.docker.system.info();
  }

  @Mutation(() => Image)
  tagImage(
    @Args('source') source: string,
    @Args('repository') repository: string,
    @Args('tag', { type: () => String, nullable: true }) tag?: string,
    @Args('force', { type: () => Boolean, nullable: true }) force?: boolean,
  ): Promise<Image> {
    return this.service.tag(source, repository, tag ?? undefined, force ?? false);
  }

  @Mutation(() => RemoveImageResult)
  removeImage(
    @Args('ref') ref: string,
    @Args('force', { type: () => Boolean, nullable: true }) force?: boolean,
    @Args('noPrune', { type: () => Boolean, nullable: true }) noPrune?: boolean,
  ): Promise<RemoveImageResult> {
    return this.service.remove(ref, { force: force ?? false, noprune: noPrune ?? false });
  }

  @Mutation(() => PruneResult)
  pruneImages(@Args('input', { type: () => PruneImagesBody, nullable: true }) input?: PruneImagesBody): Promise<PruneResult> {
    return this.service.prune(input ?? {});
  }

  @Subscription(() => ImageEvent, { resolve: (event: ImageEvent) => event })
  imageEvents(): AsyncIterableIterator<ImageEvent> {
    return iteratorFromListener<ImageEvent>((push) => this.catalog.onImageEvent(push));
  }
}
