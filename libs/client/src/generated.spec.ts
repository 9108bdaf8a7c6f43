import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** Runs a generator's CLI as its own process (both are ESM underneath, which jest's module system cannot load). */
function runCli(bin: string, args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', bin), ...args], { cwd: ROOT, stdio: 'pipe' });
}

// The generated files are committed: these fail when one was not regenerated (`npx nx run client:generate`).
describe('the generated code', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'drydock-generated-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the REST types of the committed OpenAPI document', () => {
    const out = join(dir, 'openapi.ts');
    runCli('openapi-typescript/bin/cli.js', ['libs/client/openapi.json', '--default-non-nullable', 'false', '-o', out]);
    expect(readFileSync(out, 'utf8')).toBe(read('libs/client/src/generated/openapi.ts'));
  });

  it("holds the GraphQL operations' types of the committed schema and the lib's .graphql documents", () => {
    const config = JSON.parse(read('libs/client/codegen.json')) as { generates: Record<string, unknown> };
    const out = join(dir, 'graphql.ts');
    writeFileSync(join(dir, 'codegen.json'), JSON.stringify({ ...config, generates: { [out]: Object.values(config.generates)[0] } }));
    runCli('@graphql-codegen/cli/esm/bin.js', ['--config', join(dir, 'codegen.json'), '--silent']);
    expect(readFileSync(out, 'utf8')).toBe(read('libs/client/src/generated/graphql.ts'));
  });
});
