import { readdirSync, readFileSync } from 'node:fs';
import { MAIN } from './process';

/** Jest's global teardown: kills any Drydock process of this checkout a failed suite left running. */
export default function teardown(): void {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[1] === MAIN) {
      process.stderr.write(`e2e teardown: killing Drydock process ${pid}, left running by a failed suite\n`);
      process.kill(Number(pid), 'SIGKILL');
    }
  }
}
