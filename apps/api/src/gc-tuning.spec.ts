import { execFileSync } from 'node:child_process';
import { GC_FLAGS } from './gc-tuning';

describe('GC tuning', () => {
  it("sets only flags this Node's V8 knows: one dropped by an upgrade would otherwise be ignored without a word", () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    for (const flag of GC_FLAGS) expect(known).toContain(`  ${flag} (`);
  });
});
