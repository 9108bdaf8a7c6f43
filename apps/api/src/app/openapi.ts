import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type PathItemObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { ErrorCode } from '@drydock/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { loadConfig } from './config/config';

/** The console's OpenAPI page and generated clients list the tags in this order: images first. */
const TAGS: Array<[string, string]> = [
  ['images', 'list, inspect, pull, push, tag, remove, prune, export and search images'],
  ['builds', '`docker build` from a streamed tar context or an inline Dockerfile'],
  ['jobs', 'the jobs that pulls, pushes, builds, runs and exports are, and their events'],
  ['containers', 'run a command in a container, read its output, commit it'],
  ['registries', "registry credentials per team, sealed and never returned"],
  ['secrets', 'build secrets per team, sealed and never returned'],
  ['webhooks', 'Standard Webhooks deliveries of job and image events'],
  ['engines', 'the engines Drydock routes to'],
  ['auth', "the bearer token's own name, team, role and namespaces"],
  ['audit', 'who did what'],
  ['metrics', 'Prometheus text'],
  ['health', 'liveness and readiness'],
];

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/** RFC 9457 problem details, as common/problem.ts makes them. */
const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable, the other members are for people. Extra members (e.g. `engines`) are details of the code.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', example: 'https://drydock.dev/problems/image-not-found' },
    title: { type: 'string', example: 'Image not found' },
    status: { type: 'integer', example: 404 },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.values(ErrorCode) },
    instance: { type: 'string' },
    requestId: { type: 'string', description: "the request's X-Request-Id" },
  },
  additionalProperties: true,
};

/**
 * The OpenAPI document of the app's controllers, fit for a client generator.
 * Each handler names its own `operationId` (`@ApiOperation`); what holds for
 * every operation is added here once: every error answer is a `Problem`, and
 * the bearer scheme is an opaque token (not a JWT). Builds from metadata alone,
 * so an app created with `preview: true` (no Redis, no engine) gives the same document.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Drydock')
    .setDescription('Docker image management over REST and GraphQL. Errors are application/problem+json.')
    .setVersion('1')
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', description: 'a Drydock token (opaque; its SHA-256 is in the tokens file)' });
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  document.components = { ...document.components, schemas: { Problem: PROBLEM_SCHEMA, ...document.components?.schemas } };
  for (const item of Object.values(document.paths) as PathItemObject[]) {
    for (const operation of operationsOf(item)) answerProblems(operation);
  }
  return document;
}

function operationsOf(item: PathItemObject): OperationObject[] {
  return [item.get, item.put, item.post, item.delete, item.patch, item.head, item.options].filter((op): op is OperationObject => op !== undefined);
}

/** Declared error answers get the problem schema; any other status is one too (`default`). */
function answerProblems(operation: OperationObject): void {
  const problem = (description: string): ResponseObject => ({ description, content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } } });
  for (const [status, response] of Object.entries(operation.responses)) {
    if (Number(status) >= 400) operation.responses[status] = problem((response as ResponseObject).description);
  }
  operation.responses['default'] = problem('a problem (RFC 9457): `code` says which');
}

/**
 * The document of the `all` role, from an app created in preview mode: modules
 * are scanned but no provider is made, so nothing connects to Redis or an engine.
 * What `scripts/openapi.ts` writes to libs/client/openapi.json.
 */
export async function previewOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({ DRYDOCK_ROLE: 'all', DRYDOCK_DATA_DIR: join(tmpdir(), 'drydock-openapi-preview') });
  const app = await NestFactory.create(AppModule.forRoot(config), new FastifyAdapter(), { preview: true, logger: false });
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
