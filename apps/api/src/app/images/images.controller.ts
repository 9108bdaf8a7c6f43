import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Image, ImageLayer, PruneResult, RemoveImageResult, SearchResult } from './image.model';
import { EngineQuery, ListImagesQuery, PruneImagesInput, RemoveImageQuery, SearchImagesQuery, TagImageBody } from './images.dto';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ImagesService } from './images.service';

@ApiTags('images')
@Controller('v1')
export class ImagesController {
  constructor(private readonly images: ImagesService) {}

  @Get('images')
  @RequireRole('viewer')
  @ApiOkResponse({ type: [Image] })
  @ApiOperation({ operationId: 'listImages' })
  async list(@Query() query: ListImagesQuery, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    void reply.type('application/json; charset=utf-8');
    return this.images.listJson(query);
  }

  @Post('images/prune')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: PruneResult })
  @ApiOperation({ operationId: 'pruneImages' })
  prune(@Body() body: PruneImagesInput = {}, @Query() query: EngineQuery): Promise<PruneResult> {
    return this.images.prune({ ...body, engine: query.engine ?? body.engine });
  }

  @Get('images/:ref')
  @RequireRole('viewer')
  @ApiOkResponse({ type: Image })
  @ApiOperation({ operationId: 'inspectImage' })
  inspect(@Param('ref') ref: string, @Query() query: EngineQuery): Promise<Image> {
    return this.images.inspect(ref, query.engine);
  }

  @Get('images/:ref/history')
  @RequireRole('viewer')
  @ApiOkResponse({ type: [ImageLayer] })
  @ApiOperation({ operationId: 'imageHistory' })
  history(@Param('ref') ref: string, @Query() query: EngineQuery, @CurrentPrincipal() principal: Principal): Promise<ImageLayer[]> {
    return this.images.history(ref, principal, query.engine);
  }

  @Post('images/:ref/tags')
  @RequireRole('builder')
  @ApiCreatedResponse({ type: Image })
  @ApiOperation({ operationId: 'tagImage' })
  tag(@Param('ref') ref: string, @Body() body: TagImageBody, @Query() query: EngineQuery, @CurrentPrincipal() principal: Principal): Promise<Image> {
    return this.images.tag(ref, body.repository, body.tag, body.force ?? false, principal, query.engine);
  }

  @Delete('images/:ref')
  @RequireRole('builder')
  @ApiOkResponse({ type: RemoveImageResult })
  @ApiOperation({ operationId: 'removeImage' })
  remove(@Param('ref') ref: string, @Query() query: RemoveImageQuery, @CurrentPrincipal() principal: Principal): Promise<RemoveImageResult> {
    const { engine, ...options } = query;
    return this.images.remove(ref, options, principal, engine);
  }

  @Get('search')
  @RequireRole('viewer')
  @ApiTags('search')
  @ApiOkResponse({ type: [SearchResult] })
  @ApiOperation({ operationId: 'searchImages' })
  search(@Query() query: SearchImagesQuery, @CurrentPrincipal() principal: Principal): Promise<SearchResult[]> {
    return this.images.search(query, principal);
  }
}
