import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import { AppModule } from './app.module';
import { sendProblem } from './common/exception.filter';
import { CONTEXT_TYPES } from './builds/builds.controller';
import type { AppConfig } from './config/config';
import { DrydockMetrics } from './metrics/drydock-metrics';
import { observeHttpRequests } from './metrics/http-metrics';
import { serveConsole } from './console/serve-console';
import { createOpenApiDocument } from './openapi';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Builds the HTTP application of the configured role without listening: REST,
 * GraphQL, graphql-ws and OpenAPI where the API runs (`all`, `api`); health
 * alone for a worker.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.jsonBodyMaxBytes,
    // A digest reference in one path segment is longer than Fastify's default 100.
    routerOptions: { maxParamLength: 1024 },
    // Errors of the router itself (bad percent-encoding, an over-long segment) are problems too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => sendProblem(reply, error, request.id),
    // A caller's X-Request-Id becomes the correlation id, if it is sane.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  observeHttpRequests(fastify, app.get(DrydockMetrics));
  if (config.role !== 'worker') await serveApi(app, config);
  return app;
}

/** Uploads and the OpenAPI document: the API's, not a worker's. */
async function serveApi(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // Multipart builds: the context part stays a stream; the context store applies the size cap.
  await app.register(multipart, { limits: { files: 1, fields: 64, fieldSize: 1024 * 1024, fileSize: config.buildContextMaxBytes + 1 } });
  // Build contexts stay streams: the context store spools them to disk with its own cap.
  fastify.addContentTypeParser(CONTEXT_TYPES, (_request, payload, done) => done(null, payload));

  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  if (config.consoleDir !== null) serveConsole(app, config.consoleDir);
}
