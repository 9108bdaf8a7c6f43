import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { EngineModel } from './engine.model';
import { EnginesService } from './engines.service';

@ApiTags('engines')
@Controller('v1/engines')
export class EnginesController {
  constructor(private readonly engines: EnginesService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [EngineModel], description: 'every configured engine; `host` for admins only' })
  @ApiOperation({ operationId: 'listEngines' })
  list(@CurrentPrincipal() principal: Principal): Promise<EngineModel[]> {
    return this.engines.list(principal);
  }
}
