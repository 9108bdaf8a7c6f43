import { promises as fs, type ReadStream } from 'node:fs';
import { join } from 'node:path';

/** Job ids are UUIDs: nothing else ever becomes a path. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEPT = /^[0-9a-f-]{36}\.tar(\.\d+\.part)?$/;

/**
 * EXPORT jobs' tars, one per job under the data dir. A tar is written under
 * a temporary name and renamed when whole, so a half-written one is never
 * served; all go after the job retention, as the jobs' records do.
 */
export class ArtifactStore {
  constructor(private readonly dir: string) {}

  path(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new Error(`not a job id: ${jobId}`);
    return join(this.dir, `${jobId}.tar`);
  }

  /** Where one attempt writes before the rename: retries never share a file. */
  async partPath(jobId: string, attempt: number): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    return `${this.path(jobId)}.${attempt}.part`;
  }

  /** The whole tar and its size, or null once swept (or never written). */
  async open(jobId: string): Promise<{ stream: ReadStream; size: number } | null> {
    const path = this.path(jobId);
    const handle = await fs.open(path, 'r').catch(() => null);
    if (!handle) return null;
    // Read through the handle opened here: a sweep between stat and read cannot take the file away.
    const { size } = await handle.stat();
    return { stream: handle.createReadStream(), size };
  }

  /** Removes tars (and parts of attempts that died) older than `maxAgeMs`; returns how many tars went. */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await fs.readdir(this.dir).catch(() => [])) {
      if (!KEPT.test(name)) continue;
      const stat = await fs.stat(join(this.dir, name)).catch(() => null);
      if (stat && now - stat.mtimeMs > maxAgeMs) {
        await fs.rm(join(this.dir, name), { force: true });
        if (name.endsWith('.tar')) removed++;
      }
    }
    return removed;
  }
}
