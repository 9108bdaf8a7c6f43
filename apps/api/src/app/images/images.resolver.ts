import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { DockerEngine, ImageCatalog } from '@drydock/docker';
import { iteratorFromListener } from '../common/async-queue';
import { EngineInfo, Image, ImageEvent, ImageLayer, PruneResult, RemoveImageResult, SearchResult } from './image.model';
import { ListImagesQuery, PruneImagesInput, SearchImagesQuery, TagImageArgs } from './images.dto';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ImagesService } from './images.service';

@Resolver(() => Image)
export class ImagesResolver {
  constructor(
    private readonly service: ImagesService,
    @Inject(DockerEngine) private readonly docker: DockerEngine,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
  ) {}

  @Query(() => [Image])
  @RequireRole('viewer')
  images(@Args('filter', { type: () => ListImagesQuery, nullable: true }) filter?: ListImagesQuery): Promise<Image[]> {
    return this.service.list(filter ?? {});
  }

  @Query(() => Image, { nullable: true })
  @RequireRole('viewer')
  image(@Args('ref') ref: string): Promise<Image | null> {
    return this.service.find(ref);
  }

  @Query(() => [ImageLayer])
  @RequireRole('viewer')
  imageHistory(@Args('ref') ref: string, @CurrentPrincipal() principal: Principal): Promise<ImageLayer[]> {
    return this.service.history(ref, principal);
  }

  @Query(() => [SearchResult])
  @RequireRole('viewer')
  searchImages(@Args() args: SearchImagesQuery, @CurrentPrincipal() principal: Principal): Promise<SearchResult[]> {
    return this.service.search(args, principal);
  }

  @Query(() => EngineInfo)
  @RequireRole('viewer')
  async engine(): Promise<EngineInfo> {
    return this.docker.system.info();
  }

  @Mutation(() => Image)
  @RequireRole('builder')
  tagImage(@CurrentPrincipal() principal: Principal, @Args() args: TagImageArgs): Promise<Image> {
    return this.service.tag(args.source, args.repository, args.tag ?? undefined, args.force ?? false, principal);
  }

  @Mutation(() => RemoveImageResult)
  @RequireRole('builder')
  removeImage(
    @CurrentPrincipal() principal: Principal,
    @Args('ref') ref: string,
    @Args('force', { type: () => Boolean, nullable: true }) force?: boolean,
    @Args('noPrune', { type: () => Boolean, nullable: true }) noPrune?: boolean,
  ): Promise<RemoveImageResult> {
    return this.service.remove(ref, { force: force ?? false, noprune: noPrune ?? false }, principal);
  }

  @Mutation(() => PruneResult)
  @RequireRole('admin')
  pruneImages(@Args('input', { type: () => PruneImagesInput, nullable: true }) input?: PruneImagesInput): Promise<PruneResult> {
    return this.service.prune(input ?? {});
  }

  @Subscription(() => ImageEvent, { resolve: (event: ImageEvent) => event })
  @RequireRole('viewer')
  imageEvents(): AsyncIterableIterator<ImageEvent> {
    return iteratorFromListener<ImageEvent>((push) => this.catalog.onImageEvent(push));
  }
}
