/**
 * Writes the API's OpenAPI document to libs/client/openapi.json, from which the
 * client's types are generated. Needs no Redis nor engine (see previewOpenApiDocument).
 *   node -r @swc-node/register scripts/openapi.ts [out]
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { previewOpenApiDocument } from '../apps/api/src/app/openapi';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'libs/client/openapi.json');
  writeFileSync(out, `${JSON.stringify(await previewOpenApiDocument(), null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
