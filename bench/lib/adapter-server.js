'use strict';
// A minimal NestJS app for bench/adapters: GET /images answers a ~200 KB JSON string built
// once at start (as Drydock answers its cached image list), on the adapter named in argv.
// Plain JS, so the decorators are applied by hand.

require('reflect-metadata');
const { Controller, Get, Header, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');

const [, , adapterName = 'fastify', variant = ''] = process.argv;
const TARGET_BYTES = 200 * 1024;

/** Image-shaped rows until the JSON text reaches TARGET_BYTES. */
function body() {
  const rows = [];
  let size = 2;
  for (let n = 0; size < TARGET_BYTES; n++) {
    const hex = n.toString(16).padStart(64, '0');
    const row = {
      id: `sha256:${hex}`,
      shortId: hex.slice(0, 12),
      repoTags: [{ repository: 'drydock-bench/img', tag: String(n) }],
      repoDigests: [],
      created: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
      size: 2_000_000 + n,
      labels: [{ key: 'drydock.bench.n', value: String(n) }],
      architecture: 'amd64',
      os: 'linux',
      author: '',
      comment: '',
      config: { cmd: ['/bin/sh'], entrypoint: null, env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], workingDir: '', user: '', exposedPorts: [] },
      containers: 0,
    };
    size += JSON.stringify(row).length + 1;
    rows.push(row);
  }
  return JSON.stringify(rows);
}

const BODY = body();
// `buffer`: the body encoded once, up front; a string is measured and encoded on every send.
const PAYLOAD = variant === 'buffer' ? Buffer.from(BODY) : BODY;

class ImagesController {
  list() {
    return PAYLOAD;
  }
}
Controller()(ImagesController);
const list = Object.getOwnPropertyDescriptor(ImagesController.prototype, 'list');
Get('images')(ImagesController.prototype, 'list', list);
Header('Content-Type', 'application/json; charset=utf-8')(ImagesController.prototype, 'list', list);

class BenchModule {}
Module({ controllers: [ImagesController] })(BenchModule);

async function main() {
  let app;
  if (adapterName === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false });
  } else if (adapterName === 'express') {
    const { ExpressAdapter } = require('@nestjs/platform-express');
    app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false });
    // Express hashes every body for a weak ETag by default; Fastify does not.
    if (variant === 'no-etag') app.getHttpAdapter().getInstance().set('etag', false);
  } else {
    throw new Error(`unknown adapter ${adapterName}: expected express or fastify`);
  }
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((error) => {
  process.stderr.write(`adapter-server: ${error.stack ?? error}\n`);
  process.exit(1);
});
