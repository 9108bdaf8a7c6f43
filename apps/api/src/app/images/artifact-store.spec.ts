import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from './artifact-store';

const OLD = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const NEW = '1b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const HOUR = 60 * 60 * 1000;

describe('ArtifactStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'drydock-artifacts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sweeps tars and dead attempts past the retention, keeping younger ones and files it did not write', async () => {
    const past = new Date(Date.now() - 2 * HOUR);
    for (const name of [`${OLD}.tar`, `${OLD}.tar.1.part`, 'README']) {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), past, past);
    }
    writeFileSync(join(dir, `${NEW}.tar`), 'x');
    expect(await new ArtifactStore(dir).sweep(HOUR)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([`${NEW}.tar`, 'README']);
  });

  it('never turns anything but a job id into a path, and answers a missing tar as absent', async () => {
    const store = new ArtifactStore(dir);
    expect(() => store.path('../../etc/passwd')).toThrow('not a job id');
    expect(await store.open(OLD)).toBeNull();
  });
});
