import { Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DrydockError, ErrorCode } from '@drydock/core';
// request.isMultipart() and parts() come from the plugin bootstrap registers.
import type {} from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { AcceptedJob, IdempotencyKey } from '../jobs/accepted-job';
import { validationPipe } from '../common/validation.pipe';
import { JobModel } from '../jobs/job.model';
import { BuildQuery, BuildImageInput } from './builds.dto';
import { BuildsService, type BuildOptions } from './builds.service';
import { lingerOnClose } from './lingering-close';

/** Content types whose body is a build context, passed through as a stream (see bootstrap). */
export const CONTEXT_TYPES = ['application/x-tar', 'application/tar', 'application/gzip', 'application/x-gzip', 'application/octet-stream'];

/** The Engine API's build parameters (query string or multipart fields), validated, as build options. */
async function queryOptions(raw: unknown): Promise<BuildOptions> {
  const query = (await validationPipe.transform(raw ?? {}, { type: 'query', metatype: BuildQuery })) as BuildQuery;
  return {
    tags: query.t,
    dockerfilePath: query.dockerfile,
    target: query.target,
    buildArgs: query.buildargs,
    labels: query.labels,
    noCache: query.nocache,
    pull: query.pull,
    platform: query.platform,
    timeoutSeconds: query.timeoutSeconds,
    builder: query.builder,
    secrets: query.secret,
    cacheFrom: query.cachefrom,
    engine: query.engine,
    contextOrder: query.contextOrder,
  };
}

/**
 * A refusal answered before the body was read to its end (past the cap, not a
 * tar) closes the connection: the rest of the body is not spooled, and the
 * client, not a drain of up to the cap, decides when to stop sending (within
 * the lingering close's bounds, which let it read the answer first).
 */
async function readingBody<T>(request: FastifyRequest, reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!request.raw.complete) {
      void reply.header('connection', 'close');
      lingerOnClose(request);
    }
    throw error;
  }
}

function isContext(request: FastifyRequest): boolean {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return CONTEXT_TYPES.includes(type);
}

@ApiTags('builds')
@Controller('v1/builds')
export class BuildsController {
  constructor(private readonly builds: BuildsService) {}

  /**
   * `docker build`: a tar context streamed in (the Engine API's own query
   * parameters), or JSON with an inline Dockerfile and small files.
   */
  @Post()
  @RequireRole('builder')
  @AcceptedJob()
  @ApiConsumes('application/x-tar', 'multipart/form-data', 'application/json')
  @ApiBody({ type: BuildImageInput, description: 'JSON; or a tar context with the query parameters of BuildQuery' })
  @ApiOperation({ operationId: 'buildImage' })
  async build(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @IdempotencyKey() idempotency: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<JobModel> {
    let job;
    if (isContext(request)) {
      const options = await queryOptions(request.query);
      job = await readingBody(request, reply, () => this.builds.fromTar(request.body as Readable, options, principal, idempotency));
    } else if (request.isMultipart()) {
      job = await readingBody(request, reply, () => this.fromMultipart(request, principal, idempotency));
    } else {
      if (Object.keys(request.query ?? {}).length) {
        throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'a JSON build takes its options in the body, not the query string');
      }
      const body = (await validationPipe.transform(request.body ?? {}, { type: 'body', metatype: BuildImageInput })) as BuildImageInput;
      job = await this.builds.fromBody(body, principal, idempotency);
    }
    return job;
  }

  /**
   * multipart/form-data, as an HTML form would send it: the build options as
   * fields (the same names as the query string), then the tar in a file part
   * named `context`, streamed like a tar body. Fields after the file are refused:
   * the options must be known before the context is read.
   */
  private async fromMultipart(request: FastifyRequest, principal: Principal, idempotency: string | undefined): Promise<JobModel> {
    const fields: Record<string, string | string[]> = {};
    let job: JobModel | undefined;
    for await (const part of request.parts()) {
      if (job) {
        if (part.type === 'file') part.file.resume();
        throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'multipart: the context must be the last part');
      }
      if (part.type === 'field') {
        const value = String(part.value);
        const previous = fields[part.fieldname];
        fields[part.fieldname] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
        continue;
      }
      if (part.fieldname !== 'context') {
        part.file.resume();
        throw new DrydockError(ErrorCode.VALIDATION_FAILED, `multipart: the build context goes in a file part named "context", not "${part.fieldname}"`);
      }
      job = await this.builds.fromTar(part.file, await queryOptions(fields), principal, idempotency);
    }
    if (!job) throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'multipart: no file part named "context"');
    return job;
  }

  /** Uploads a context to build later by id (GraphQL `buildImage(input: { contextUploadId })`). */
  @Post('contexts')
  @RequireRole('builder')
  @ApiConsumes('application/x-tar')
  @ApiCreatedResponse({
    description: 'the upload, to name in `contextUploadId`',
    schema: { type: 'object', required: ['id', 'size'], properties: { id: { type: 'string' }, size: { type: 'integer' } } },
  })
  @ApiOperation({ operationId: 'uploadBuildContext' })
  async upload(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ id: string; size: number }> {
    if (!isContext(request)) {
      throw new DrydockError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, `a build context is ${CONTEXT_TYPES[0]}`);
    }
    const stored = await readingBody(request, reply, () => this.builds.upload(request.body as Readable, principal));
    return { id: stored.id, size: stored.size };
  }
}
