import type { OpenAPIObject, OperationObject, PathItemObject, ResponseObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { previewOpenApiDocument } from './openapi';

const COMMITTED = join(__dirname, '../../../../libs/client/openapi.json');

function operations(document: OpenAPIObject): Array<[string, OperationObject]> {
  return Object.entries(document.paths).flatMap(([path, item]: [string, PathItemObject]) =>
    (['get', 'put', 'post', 'delete', 'patch'] as const).flatMap((method) => (item[method] ? [[`${method.toUpperCase()} ${path}`, item[method]] as [string, OperationObject]] : [])),
  );
}

describe('the OpenAPI document', () => {
  let document: OpenAPIObject;
  beforeAll(async () => {
    document = await previewOpenApiDocument();
  });

  it('is the one committed in libs/client/openapi.json (else run `npx nx run client:generate` and commit)', () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as OpenAPIObject;
    expect(JSON.parse(JSON.stringify(document))).toEqual(committed);
  });

  it('names every operation with a readable camelCase operationId, each once', () => {
    const ids = operations(document).map(([, operation]) => operation.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['listImages', 'inspectImage', 'imageHistory', 'pullImage', 'buildImage', 'pushImage', 'tagImage', 'removeImage']));
    expect(ids).toEqual(expect.arrayContaining(['pruneImages', 'exportImage', 'searchImages', 'listJobs', 'getJob', 'cancelJob', 'jobEvents', 'listWebhooks']));
  });

  it('answers every error of every operation, and any status not listed, with the Problem schema as problem+json', () => {
    for (const [name, operation] of operations(document)) {
      const errors = Object.entries(operation.responses).filter(([status]) => status === 'default' || Number(status) >= 400);
      expect([name, errors.length > 0]).toEqual([name, true]);
      for (const [status, response] of errors) {
        expect([name, status, (response as ResponseObject).content]).toEqual([name, status, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }]);
      }
    }
    expect(document.components?.schemas?.['Problem']).toMatchObject({ required: ['type', 'title', 'status', 'detail', 'code'], additionalProperties: true });
  });

  it('declares an opaque bearer token, not a JWT, and every guarded operation asks for it', () => {
    expect(document.components?.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer', description: expect.any(String) } });
    const open = operations(document).filter(([, operation]) => !operation.security?.some((requirement) => 'bearer' in requirement));
    expect(open.map(([name]) => name)).toEqual(['GET /health/live', 'GET /health/ready']);
  });

  it('types every property, never as a bare object, which the client could only read as Record<string, never>', () => {
    // @nestjs/swagger cannot infer `number | null` from the emitted metadata and writes { type: 'object' } unless told the type.
    const bare = Object.entries(document.components?.schemas ?? {}).flatMap(([name, schema]) =>
      Object.entries((schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {})
        .filter(([, property]) => property['type'] === 'object' && !property['properties'] && !property['additionalProperties'] && !property['allOf'])
        .map(([property]) => `${name}.${property}`),
    );
    expect(bare).toEqual([]);
  });

  it('gives the job events stream the text/event-stream media type and lists the image tag first', () => {
    const events = document.paths['/v1/jobs/{id}/events']?.get?.responses['200'] as ResponseObject;
    expect(Object.keys(events.content ?? {})).toEqual(['text/event-stream']);
    expect(document.tags?.[0]?.name).toBe('images');
  });
});
