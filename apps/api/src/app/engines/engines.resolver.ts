import { Args, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { EngineInfo } from '../images/image.model';
import { EngineModel } from './engine.model';
import { EnginesService } from './engines.service';

@Resolver(() => EngineModel)
export class EnginesResolver {
  constructor(private readonly service: EnginesService) {}

  @Query(() => [EngineModel], { description: 'every configured engine; `host` for admins only' })
  @RequireRole('viewer')
  engines(@CurrentPrincipal() principal: Principal): Promise<EngineModel[]> {
    return this.service.list(principal);
  }

  @Query(() => EngineInfo, { description: 'what one engine says of itself: the one named, else the first configured' })
  @RequireRole('viewer')
  engine(@Args('name', { type: () => String, nullable: true }) name?: string): Promise<EngineInfo> {
    return this.service.info(name);
  }
}
