import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { MergedCatalog } from '../engine/merged-catalog';
import { iteratorFromListener } from '../common/async-queue';
import { Image, ImageEvent, ImageLayer, PruneResult, RemoveImageResult, SearchResult } from './image.model';
import { ListImagesQuery, PruneImagesInput, SearchImagesQuery, TagImageArgs } from './images.dto';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ImagesService } from './images.service';

/** `engine:` of the image queries and mutations; its format is checked where the pool looks it up (UNKNOWN_ENGINE). */
const ENGINE_ARG = { type: () => String, nullable: true, description: 'the engine to ask; default: the one that holds the image' } as const;

@Resolver(() => Image)
export class ImagesResolver {
  constructor(
    private readonly service: ImagesService,
    @Inject(MergedCatalog) private readonly catalog: MergedCatalog,
  ) {}

  @Query(() => [Image])
  @RequireRole('viewer')
  images(@Args('filter', { type: () => ListImagesQuery, nullable: true }) filter?: ListImagesQuery): Promise<Image[]> {
    return this.service.list(filter ?? {});
  }

  @Query(() => Image, { nullable: true })
  @RequireRole('viewer')
  image(@Args('ref') ref: string, @Args('engine', ENGINE_ARG) engine?: string): Promise<Image | null> {
    return this.service.find(ref, engine);
  }

  @Query(() => [ImageLayer])
  @RequireRole('viewer')
  imageHistory(@Args('ref') ref: string, @CurrentPrincipal() principal: Principal, @Args('engine', ENGINE_ARG) engine?: string): Promise<ImageLayer[]> {
    return this.service.history(ref, principal, engine);
  }

  @Query(() => [SearchResult])
  @RequireRole('viewer')
  searchImages(@Args() args: SearchImagesQuery, @CurrentPrincipal() principal: Principal): Promise<SearchResult[]> {
    return this.service.search(args, principal);
  }

  @Mutation(() => Image)
  @RequireRole('builder')
  tagImage(@CurrentPrincipal() principal: Principal, @Args() args: TagImageArgs): Promise<Image> {
    return this.service.tag(args.source, args.repository, args.tag ?? undefined, args.force ?? false, principal, args.engine);
  }

  @Mutation(() => RemoveImageResult)
  @RequireRole('builder')
  removeImage(
    @CurrentPrincipal() principal: Principal,
    @Args('ref') ref: string,
    @Args('force', { type: () => Boolean, nullable: true }) force?: boolean,
    @Args('noPrune', { type: () => Boolean, nullable: true }) noPrune?: boolean,
    @Args('engine', ENGINE_ARG) engine?: string,
  ): Promise<RemoveImageResult> {
    return this.service.remove(ref, { force: force ?? false, noprune: noPrune ?? false }, principal, engine);
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
